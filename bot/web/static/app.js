// The coordinator's dashboard (bot/web/API.md): plain JS, no build step. Views by hash route:
// #/ringkasan, #/peta, #/kelompok?district=…, #/pendamping, #/kelompok/17.
"use strict";

(() => {
  // ---- Telegram: initData and theme from the URL fragment -------------------------------
  // Telegram opens the page at {url}#tgWebAppData=…&tgWebAppThemeParams=… (or
  // #route?tgWebAppData=…). Read it ourselves rather than loading telegram-web-app.js from
  // telegram.org, and keep it for the tab's life: our routes replace the fragment.
  const STORE = "pk_tg";

  function readLaunch() {
    let frag = location.hash.replace(/^#/, "");
    let route = "";
    const q = frag.indexOf("?");
    if (q >= 0 && frag.indexOf("tgWebApp") > q) {
      route = frag.slice(0, q);
      frag = frag.slice(q + 1);
    }
    if (frag.indexOf("tgWebApp") < 0) {
      try {
        return { ...JSON.parse(sessionStorage.getItem(STORE) || "{}"), route: null };
      } catch (e) {
        return { route: null };
      }
    }
    const params = new URLSearchParams(frag);
    const launch = {
      initData: params.get("tgWebAppData") || "",
      theme: params.get("tgWebAppThemeParams") || "",
    };
    try {
      sessionStorage.setItem(STORE, JSON.stringify(launch));
    } catch (e) {
      // Private mode: the fragment is read again on the next open from Telegram.
    }
    launch.route = route.startsWith("/") ? route : "/ringkasan";
    return launch;
  }

  const launch = readLaunch();
  if (launch.route !== null) history.replaceState(null, "", "#" + launch.route);

  function applyTheme(json) {
    if (!json) return;
    let params;
    try {
      params = JSON.parse(json);
    } catch (e) {
      return;
    }
    const root = document.documentElement.style;
    for (const [key, value] of Object.entries(params)) {
      if (/^#[0-9a-f]{3,8}$/i.test(String(value))) {
        root.setProperty("--tg-theme-" + key.replace(/_/g, "-"), value);
      }
    }
    document.documentElement.classList.add("tg");
  }
  applyTheme(launch.theme);

  // Tell the Telegram client the page is ready (its placeholder goes) and may fill the screen.
  function postEvent(type, data) {
    const payload = JSON.stringify(data || {});
    try {
      if (window.TelegramWebviewProxy) window.TelegramWebviewProxy.postEvent(type, payload);
      else if (window.external && "notify" in window.external) {
        window.external.notify(JSON.stringify({ eventType: type, eventData: data || {} }));
      } else if (window.parent !== window) {
        window.parent.postMessage(JSON.stringify({ eventType: type, eventData: data || {} }), "*");
      }
    } catch (e) {
      // Outside Telegram nobody listens.
    }
  }

  // ---- Texts and formats ------------------------------------------------------------------
  let lang = /^en\b/.test(navigator.language || "") ? "en" : "id";
  const T = window.I18N;

  function t(key, args) {
    let text = (T[lang] && T[lang][key]) || T.id[key] || key;
    if (args) text = text.replace(/\{(\w+)\}/g, (m, name) => (name in args ? args[name] : m));
    return text;
  }
  // A code the API sends (stage, status, …) in words; an unknown code shows as it is.
  const word = (prefix, code) => (code == null ? "–" : t(prefix + "." + code));

  const locale = () => (lang === "en" ? "en-GB" : "id-ID");
  const rupiah = new Intl.NumberFormat("id-ID", {
    style: "currency", currency: "IDR", maximumFractionDigits: 0,
  });
  const rp = (n) => (n == null ? "–" : rupiah.format(n));
  const num = (n, digits) => (n == null ? "–" : new Intl.NumberFormat(locale(), {
    maximumFractionDigits: digits || 0, minimumFractionDigits: digits || 0,
  }).format(n));
  const pct = (share) => (share == null ? "–" : new Intl.NumberFormat(locale(), {
    style: "percent", maximumFractionDigits: 0,
  }).format(share));
  const compact = (n) => new Intl.NumberFormat(locale(), {
    notation: "compact", maximumFractionDigits: 1,
  }).format(n);

  // ISO dates are calendar days: read and print them in UTC so no time zone moves them.
  function day(iso) {
    if (!iso) return null;
    const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
    return new Date(Date.UTC(y, m - 1, d));
  }
  function date(iso) {
    const d = day(iso);
    if (!d) return "–";
    return new Intl.DateTimeFormat(locale(), {
      day: "numeric", month: "short", year: "numeric", timeZone: "UTC",
    }).format(d);
  }

  // ---- DOM --------------------------------------------------------------------------------
  // Names come from users: build nodes, never HTML strings.
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value == null || value === false) continue;
      if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else if (key === "class") el.className = value;
      else el.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat(Infinity)) {
      if (child == null || child === false) continue;
      el.append(child instanceof Node ? child : String(child));
    }
    return el;
  }
  const view = document.getElementById("view");
  const show = (...nodes) => view.replaceChildren(...nodes);

  function badge(kind, code, text) {
    return h("span", { class: `badge ${kind}-${code == null ? "none" : code}` }, text);
  }
  const visitBadge = (v) => badge("visit", v, word("visit", v == null ? "none" : v));

  // ---- API --------------------------------------------------------------------------------
  class AuthError extends Error {}
  class NotFound extends Error {}

  async function api(path) {
    const headers = { Accept: "application/json" };
    if (launch.initData) headers["X-Telegram-Init-Data"] = launch.initData;
    const res = await fetch(path, { headers, credentials: "same-origin" });
    if (res.status === 401 || res.status === 403) throw new AuthError(String(res.status));
    if (res.status === 404) throw new NotFound(path);
    if (!res.ok) throw new Error(String(res.status));
    return res.json();
  }

  // Photos need the same credentials as the API, which an <img src> cannot send: fetch them
  // and show the bytes.
  async function photoUrl(path) {
    const headers = {};
    if (launch.initData) headers["X-Telegram-Init-Data"] = launch.initData;
    const res = await fetch(path, { headers, credentials: "same-origin" });
    if (!res.ok) throw new Error(String(res.status));
    return URL.createObjectURL(await res.blob());
  }

  function problem(error, retry) {
    if (error instanceof AuthError) {
      document.body.classList.add("signed-out");
      return h("div", { class: "message auth", role: "alert" },
        h("p", { class: "big" }, t("auth.open_from_bot")), h("p", null, t("auth.hint")));
    }
    if (error instanceof NotFound) {
      return h("div", { class: "message", role: "alert" }, h("p", null, t("error.not_found")),
        h("a", { class: "button", href: "#/kelompok" }, t("nav.kelompok")));
    }
    return h("div", { class: "message", role: "alert" }, h("p", null, t("error.load")),
      retry && h("button", { class: "button", type: "button", onclick: retry }, t("error.retry")));
  }

  // ---- Routing ----------------------------------------------------------------------------
  let me = null;
  let renderId = 0;

  function route() {
    const raw = location.hash.replace(/^#/, "") || "/ringkasan";
    const [path, query] = raw.split("?");
    return { parts: path.split("/").filter(Boolean), params: new URLSearchParams(query || "") };
  }
  function go(path, params) {
    const query = params ? new URLSearchParams(
      Object.entries(params).filter(([, v]) => v != null && v !== "")).toString() : "";
    location.hash = "#" + path + (query ? "?" + query : "");
  }

  async function render() {
    const id = ++renderId;
    const { parts, params } = route();
    const name = parts[0] || "ringkasan";
    for (const tab of document.querySelectorAll("nav a")) {
      tab.classList.toggle("active", tab.dataset.view === name);
      if (tab.dataset.view === name) tab.setAttribute("aria-current", "page");
      else tab.removeAttribute("aria-current");
    }
    show(h("p", { class: "loading" }, t("loading")));
    const retry = () => render();
    try {
      let node;
      if (name === "peta") node = await mapView();
      else if (name === "kelompok" && parts[1]) node = await groupView(parts[1]);
      else if (name === "kelompok") node = await tableView(params);
      else if (name === "pendamping") node = await mentorsView();
      else node = await overviewView(params);
      if (id !== renderId) return;
      show(node);
      window.scrollTo(0, 0);
      for (const hook of afterShow.splice(0)) hook();
    } catch (error) {
      if (id !== renderId) return;
      afterShow.length = 0;
      show(problem(error, retry));
    }
  }
  // Work that needs the view in the document (Leaflet and uPlot measure their box).
  const afterShow = [];

  // ---- Overview ---------------------------------------------------------------------------
  function tile(label, value, extra, href) {
    const body = [h("span", { class: "tile-value" }, value), h("span", { class: "tile-label" }, label),
      extra && h("span", { class: "tile-extra" }, extra)];
    return href ? h("a", { class: "tile", href }, body) : h("div", { class: "tile" }, body);
  }

  async function overviewView(params) {
    const period = params.get("period") || (me.periods[0] && me.periods[0].key) || "";
    const data = await api("api/overview?period=" + encodeURIComponent(period));
    const select = h("select", {
      id: "period", "aria-label": t("period"),
      onchange: (e) => go("/ringkasan", { period: e.target.value }),
    }, me.periods.map((p) => h("option", { value: p.key, selected: p.key === data.period.key }, p.label)));
    const g = data.groups;
    const s = data.stages;
    const tiles = h("div", { class: "tiles" },
      tile(t("ov.groups"), num(g.total),
        `${t("status.aktif")} ${num(g.aktif)} · ${t("status.tidak_aktif")} ${num(g.tidak_aktif)} · ${t("status.bubar")} ${num(g.bubar)}`,
        "#/kelompok"),
      tile(t("ov.stages"), num(s.tumbuh + s.berkembang + s.mandiri),
        `${t("stage.tumbuh")} ${num(s.tumbuh)} · ${t("stage.berkembang")} ${num(s.berkembang)} · ${t("stage.mandiri")} ${num(s.mandiri)}`),
      tile(t("ov.on_time"), pct(data.on_time_share)),
      tile(t("ov.overdue"), num(data.overdue), t("ov.see_overdue"), "#/kelompok?visit=overdue"),
      tile(t("ov.visits"), num(data.visits.total),
        `${num(data.visits.far)} ${t("ov.far")} · ${num(data.visits.no_location)} ${t("ov.no_location")}`),
      tile(t("ov.graduations"), num(data.graduations)));
    const cols = ["groups", "aktif", "overdue", "on_time", "visits", "far", "no_location", "graduations"];
    const table = h("div", { class: "scroll" }, h("table", { class: "data districts" },
      h("thead", null, h("tr", null, h("th", null, t("col.district")),
        cols.map((c) => h("th", { class: "num" }, t("col." + c))))),
      h("tbody", null, data.districts.map((d) => h("tr", {
        class: "link", tabindex: "0",
        onclick: () => go("/kelompok", { district: d.code }),
        onkeydown: (e) => e.key === "Enter" && go("/kelompok", { district: d.code }),
      }, h("td", null, h("a", { href: `#/kelompok?district=${encodeURIComponent(d.code)}` }, d.name)),
      h("td", { class: "num" }, num(d.groups)), h("td", { class: "num" }, num(d.aktif)),
      h("td", { class: "num" }, num(d.overdue)), h("td", { class: "num" }, pct(d.on_time_share)),
      h("td", { class: "num" }, num(d.visits)), h("td", { class: "num" }, num(d.far)),
      h("td", { class: "num" }, num(d.no_location)), h("td", { class: "num" }, num(d.graduations)))))));
    return h("section", { class: "overview" },
      h("div", { class: "toolbar" }, h("label", { for: "period" }, t("period")), select,
        h("span", { class: "hint" }, `${date(data.period.start)} – ${date(data.period.end)}`)),
      tiles, h("h2", null, t("ov.districts")), table);
  }

  // ---- Map --------------------------------------------------------------------------------
  const COLOURS = { on_time: "#2e7d32", due: "#e0a100", overdue: "#c62828", none: "#757575" };

  function legend() {
    return h("div", { class: "legend" }, ["on_time", "due", "overdue", "none"].map((v) =>
      h("span", null, h("i", { class: "dot", style: `background:${COLOURS[v]}` }), t("visit." + v))));
  }

  function groupLink(g) {
    return h("a", { href: `#/kelompok/${g.id}` }, g.name);
  }

  async function mapView() {
    const { groups, total } = await api("api/groups");
    const placed = groups.filter((g) => g.place);
    const unplaced = groups.filter((g) => !g.place);
    const box = h("div", { id: "map", class: "map" });
    const note = h("p", { class: "hint map-note", hidden: true }, t("map.no_tiles"));
    const side = h("aside", { class: "unplaced" }, h("h2", null, t("map.without_place"),
      " ", h("span", { class: "count" }, `(${unplaced.length})`)),
    unplaced.length ? h("ul", null, unplaced.map((g) => h("li", null, groupLink(g), " ",
      h("span", { class: "hint" }, g.village.name), " ", visitBadge(g.visit))))
      : h("p", { class: "hint" }, t("map.all_placed")));
    afterShow.push(() => drawMap(box, placed, note));
    const some = total > groups.length &&
      h("p", { class: "hint count" }, t("f.count_some", { n: num(groups.length), total: num(total) }));
    return h("section", { class: "map-view" }, some, legend(), h("div", { class: "map-layout" },
      h("div", null, box, note), side));
  }

  function baseMap(box) {
    const map = L.map(box, { preferCanvas: false, zoomControl: true, attributionControl: true });
    if (me.tiles_url) {
      let failed = 0;
      const layer = L.tileLayer(me.tiles_url, {
        maxZoom: 19,
        attribution: /openstreetmap/i.test(me.tiles_url)
          ? '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>' : "",
      });
      layer.on("tileerror", () => {
        failed += 1;
        if (failed === 1) box.dispatchEvent(new CustomEvent("tilesfailed"));
      });
      layer.addTo(map);
    }
    return map;
  }

  function drawMap(box, placed, note) {
    if (!window.L) return;
    const map = baseMap(box);
    box.addEventListener("tilesfailed", () => { note.hidden = false; });
    const points = [];
    for (const g of placed) {
      const visit = g.visit || "none";
      const marker = L.circleMarker([g.place.lat, g.place.lon], {
        radius: 9, weight: 2, color: "#ffffff", fillColor: COLOURS[visit], fillOpacity: 0.95,
        className: `marker marker-${visit}`,
      });
      marker.bindPopup(() => h("div", { class: "popup" }, h("strong", null, g.name),
        h("div", null, `${g.village.name}, ${g.district.name}`),
        h("div", null, visitBadge(g.visit)),
        h("a", { class: "button small", href: `#/kelompok/${g.id}` }, t("map.open_group"))));
      marker.addTo(map);
      points.push([g.place.lat, g.place.lon]);
    }
    if (points.length) map.fitBounds(points, { padding: [24, 24], maxZoom: 14 });
    else map.setView([-2.5, 118], 4);
  }

  // ---- Table of groups --------------------------------------------------------------------
  const FILTERS = ["district", "village", "mentor", "stage", "status", "visit"];
  const COLUMNS = [
    // The visit status second: on a phone the table scrolls sideways, and this is what a
    // coordinator opens it for.
    ["name", "col.name"], ["days_overdue", "col.days_overdue"], ["village", "col.village"],
    ["mentor", "col.mentor"], ["stage", "col.stage"], ["status", "col.status"],
    ["last_visit", "col.last_visit"], ["next_due", "col.next_due"],
  ];

  async function tableView(params) {
    const query = new URLSearchParams();
    for (const key of [...FILTERS, "sort", "order"]) if (params.get(key)) query.set(key, params.get(key));
    const data = await api("api/groups" + (query.toString() ? "?" + query : ""));
    const current = Object.fromEntries(params);
    const change = (key, value) => {
      const next = { ...current, [key]: value };
      // A village belongs to one district: a new district clears the village.
      if (key === "district") delete next.village;
      go("/kelompok", next);
    };
    const select = (key, label, options) => h("label", { class: "filter" },
      h("span", null, label),
      h("select", { name: key, onchange: (e) => change(key, e.target.value) },
        h("option", { value: "" }, t("f.all")),
        options.map(([value, text]) => h("option", {
          value, selected: String(value) === (current[key] || ""),
        }, text))));
    const f = data.filters;
    const villages = f.villages.filter((v) => !current.district || v.district === current.district);
    const filters = h("div", { class: "filters" },
      select("district", t("col.district"), f.districts.map((d) => [d.code, d.name])),
      select("village", t("col.village"), villages.map((v) => [v.code, v.name])),
      select("mentor", t("col.mentor"), f.mentors.map((m) => [m.id, m.name])),
      select("stage", t("col.stage"), ["tumbuh", "berkembang", "mandiri"].map((c) => [c, word("stage", c)])),
      select("status", t("col.status"), ["aktif", "tidak_aktif", "bubar"].map((c) => [c, word("status", c)])),
      select("visit", t("f.visit"), ["on_time", "due", "overdue"].map((c) => [c, word("visit", c)])),
      FILTERS.some((k) => current[k]) && h("a", { class: "button ghost", href: "#/kelompok" }, t("f.reset")));
    // On a phone the six filters would push the table off the screen: folded until asked for.
    const active = FILTERS.filter((k) => current[k]).length;
    const box = h("details", { class: "filters-box", open: window.innerWidth >= 700 },
      h("summary", null, t("f.title"), active ? ` (${active})` : ""), filters);

    const sort = current.sort || "days_overdue";
    const order = current.order || (sort === "days_overdue" ? "desc" : "asc");
    const header = COLUMNS.map(([key, label]) => {
      const active = key === sort;
      const nextOrder = active && order === "asc" ? "desc" : "asc";
      return h("th", { "aria-sort": active ? (order === "asc" ? "ascending" : "descending") : null },
        h("button", {
          type: "button", class: "sort", "data-sort": key,
          onclick: () => go("/kelompok", { ...current, sort: key, order: nextOrder }),
        }, t(label), active ? (order === "asc" ? " ▲" : " ▼") : ""));
    });
    const rows = data.groups.map((g) => h("tr", {
      class: "link", "data-id": g.id, tabindex: "0",
      onclick: () => go(`/kelompok/${g.id}`),
      onkeydown: (e) => e.key === "Enter" && go(`/kelompok/${g.id}`),
    },
    h("th", { scope: "row" }, groupLink(g)),
    h("td", null, visitBadge(g.visit),
      g.days_overdue > 0 && h("span", { class: "sub" }, t("overdue_days", { n: num(g.days_overdue) }))),
    h("td", { "data-district": g.district.code }, g.village.name,
      h("span", { class: "sub" }, g.district.name)),
    h("td", null, g.mentor ? g.mentor.name : "–"),
    h("td", null, word("stage", g.stage)),
    h("td", null, badge("status", g.status, word("status", g.status))),
    h("td", null, date(g.last_visit)),
    h("td", null, date(g.next_due))));
    return h("section", { class: "table-view" }, box,
      h("p", { class: "hint count", "aria-live": "polite" }, data.total > data.groups.length
        ? t("f.count_some", { n: num(data.groups.length), total: num(data.total) })
        : t("f.count", { n: num(data.groups.length) })),
      rows.length ? h("div", { class: "scroll" }, h("table", { class: "data groups" },
        h("thead", null, h("tr", null, header)), h("tbody", null, rows)))
        : h("p", { class: "message" }, t("f.none")));
  }

  // ---- Mentors ----------------------------------------------------------------------------
  async function mentorsView() {
    const { mentors } = await api("api/mentors");
    if (!mentors.length) return h("p", { class: "message" }, t("mentors.none"));
    return h("section", null, h("div", { class: "scroll" }, h("table", { class: "data mentors" },
      h("thead", null, h("tr", null, h("th", null, t("col.mentor")), h("th", null, t("col.affiliation")),
        h("th", { class: "num" }, t("col.groups")), h("th", { class: "num" }, t("col.overdue")),
        h("th", { class: "num" }, t("col.on_time")), h("th", null, t("col.last_visit")))),
      h("tbody", null, mentors.map((m) => h("tr", {
        class: "link", tabindex: "0",
        onclick: () => go("/kelompok", { mentor: m.id }),
        onkeydown: (e) => e.key === "Enter" && go("/kelompok", { mentor: m.id }),
      },
      h("th", { scope: "row" }, h("span", {
        class: `light light-${m.light}`, role: "img", "aria-label": word("light", m.light),
        title: word("light", m.light),
      }), " ", h("a", { href: `#/kelompok?mentor=${m.id}` }, m.name)),
      h("td", null, word("affiliation", m.affiliation)),
      h("td", { class: "num" }, num(m.groups)), h("td", { class: "num" }, num(m.overdue)),
      h("td", { class: "num" }, pct(m.on_time_share)), h("td", null, date(m.last_visit))))))));
  }

  // ---- A group's page ---------------------------------------------------------------------
  function field(label, ...value) {
    return [h("dt", null, label), h("dd", null, ...value)];
  }

  function checkBadge(v) {
    const km = num(v.distance_km, 1);
    return badge("check", v.check, t("check." + v.check, { km }));
  }

  function profile(g) {
    const place = g.place
      ? [`${num(g.place.lat, 5)}, ${num(g.place.lon, 5)} `, h("span", { class: "hint" }, `(${t("g.place." + g.place.source)})`)]
      : [t("g.place.none")];
    return h("dl", { class: "profile" },
      field(t("col.village"), `${g.village.name}, ${g.district.name}`),
      field(t("col.mentor"), g.mentor ? g.mentor.name : "–"),
      field(t("col.stage"), word("stage", g.stage)),
      field(t("col.status"), badge("status", g.status, word("status", g.status)),
        g.status_on && ` ${t("g.status_since", { date: date(g.status_on) })}`,
        g.status_reason && ` · ${word("sreason", g.status_reason)}`),
      field(t("g.business"), word("business", g.business_type)),
      g.binding_ties?.length > 0 && field(t("g.ties"), g.binding_ties.map((c) => word("tie", c)).join(", ")),
      field(t("g.formed"), date(g.formed_on)),
      field(t("g.interval"), t("g.interval_days", { n: num(g.visit_interval_days) })),
      field(t("col.last_visit"), date(g.last_visit)),
      field(t("col.next_due"), date(g.next_due), " ", visitBadge(g.visit)),
      field(t("g.place"), ...place));
  }

  function household(m) {
    const role = [word("role", m.role), m.sex ? t("h.sex." + m.sex) : null].filter(Boolean);
    const left = [m.left_on && t("g.left", { date: date(m.left_on) }),
      m.left_reason && word("leave", m.left_reason)].filter(Boolean);
    return h("tr", { class: m.active ? null : "inactive" },
      h("th", { scope: "row" }, m.name, h("span", { class: "sub" }, role.join(" · "))),
      h("td", null, word("welfare", m.category), m.dtks && h("span", { class: "sub" }, m.dtks)),
      h("td", { class: "mono" }, m.nik || "–", h("span", { class: "sub" }, m.phone || "")),
      h("td", null, !m.active && [t("h.inactive"), h("span", { class: "sub" }, left.join(" · "))]));
  }

  function households(data) {
    const counts = Object.entries(data.categories || {}).map(([c, n]) =>
      h("span", { class: "chip" }, `${word("welfare", c)}: ${num(n)}`));
    return [h("div", { class: "chips" }, counts), h("div", { class: "scroll" },
      h("table", { class: "data households" }, h("tbody", null, data.households.map(household))))];
  }

  function historyList(items) {
    if (!items.length) return h("p", { class: "hint" }, t("g.history.none"));
    const name = (kind, code) => (kind === "stage" ? word("stage", code) : word("status", code));
    return h("ol", { class: "history" }, items.map((e) => h("li", null,
      h("time", { datetime: e.on }, date(e.on)), " ",
      h("strong", null, t("g.history." + e.kind)), ": ",
      `${name(e.kind, e.old)} → ${name(e.kind, e.new)}`,
      e.note && h("span", { class: "sub" }, e.note))));
  }

  function chart(figures) {
    const points = figures.filter((f) => f.turnover != null || f.profit != null || f.cash != null);
    if (points.length < 2 || !window.uPlot) return h("p", { class: "hint" }, t("g.figures.few"));
    const box = h("div", { class: "chart", role: "img", "aria-label": t("g.figures") });
    const xs = points.map((f) => day(f.on).getTime() / 1000);
    const series = [["turnover", "#2481cc"], ["profit", "#2e7d32"], ["cash", "#e0a100"]];
    afterShow.push(() => {
      const width = () => Math.max(260, box.clientWidth);
      const plot = new uPlot({
        width: width(), height: 220,
        scales: { x: { time: true } },
        legend: { live: false },
        series: [{},
          ...series.map(([key, colour]) => ({
            label: t("v." + key), stroke: colour, width: 2, points: { size: 6 },
          }))],
        axes: [
          // Ticks days apart read "10 Nov", months apart "Nov 26"; a label equal to the one
          // before it is left out (not "Nov 26" ten times along a short span).
          { values: (u, splits, _axis, _space, step) => {
            const format = new Intl.DateTimeFormat(locale(), step < 28 * 86400
              ? { day: "numeric", month: "short", timeZone: "UTC" }
              : { month: "short", year: "2-digit", timeZone: "UTC" });
            return splits.map((s, i) => {
              const label = format.format(new Date(s * 1000));
              return i > 0 && label === format.format(new Date(splits[i - 1] * 1000)) ? "" : label;
            });
          } },
          { size: 56, values: (u, splits) => splits.map(compact) },
        ],
      }, [xs, ...series.map(([key]) => points.map((f) => f[key]))], box);
      const resize = () => {
        if (!box.isConnected) return window.removeEventListener("resize", resize);
        plot.setSize({ width: width(), height: 220 });
      };
      window.addEventListener("resize", resize);
    });
    return box;
  }

  // A group can have dozens of photos: fetch each one when it scrolls into sight.
  const photoWatch = "IntersectionObserver" in window ? new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      photoWatch.unobserve(entry.target);
      entry.target.load();
    }
  }, { rootMargin: "200px" }) : null;

  function photo(path) {
    const img = h("img", { alt: t("v.photo"), class: "photo" });
    const button = h("button", { type: "button", class: "photo-button", "aria-label": t("v.photo") }, img);
    button.load = () => photoUrl(path).then((url) => {
      img.src = url;
      button.addEventListener("click", () => lightbox(url));
    }, () => {
      button.replaceChildren(h("span", { class: "hint" }, t("v.photo_failed")));
      button.disabled = true;
    });
    if (photoWatch) afterShow.push(() => photoWatch.observe(button));
    else button.load();
    return button;
  }

  function lightbox(url) {
    const close = () => box.remove();
    const box = h("div", { class: "lightbox", role: "dialog", onclick: close },
      h("img", { src: url, alt: t("v.photo") }),
      h("button", { type: "button", class: "button", onclick: close }, t("v.close")));
    document.body.append(box);
  }

  function visit(v) {
    const money = ["turnover", "profit", "cash", "solidarity_fee"].filter((k) => v[k] != null)
      .map((k) => h("span", null, `${t("v." + k)} ${rp(v[k])}`));
    const where = v.location ? `${num(v.location.lat, 5)}, ${num(v.location.lon, 5)}` : null;
    return h("li", { class: "visit", "data-id": v.id },
      h("div", { class: "visit-head" }, h("time", { datetime: v.on }, date(v.on)),
        h("span", null, v.mentor || ""), checkBadge(v)),
      h("div", { class: "visit-body" },
        v.attendance != null && h("div", null, t("v.attendance", { n: num(v.attendance) })),
        v.activities?.length > 0 && h("div", null, v.activities.map((a) => word("activity", a)).join(", ")),
        money.length > 0 && h("div", { class: "money" }, money),
        v.problems && h("div", null, h("strong", null, t("v.problems") + ": "), v.problems),
        v.follow_up && h("div", null, h("strong", null, t("v.follow_up") + ": "), v.follow_up),
        where && h("div", { class: "hint" }, "📍 ", where),
        v.corrected_at && h("div", { class: "hint" }, t("v.corrected", { date: date(v.corrected_at) })),
        v.photos?.length > 0 && h("div", { class: "photos" }, v.photos.map(photo))));
  }

  function progress(label, done, total, format) {
    const share = total ? Math.min(1, done / total) : 0;
    return h("div", { class: "progress-row" }, h("span", null, label),
      h("progress", { max: "1", value: String(share) }),
      h("span", { class: "hint" }, `${format(done)} / ${format(total)}`));
  }

  function grant(gr) {
    const lpj = gr.lpj_on ? t("gr.lpj_done", { date: date(gr.lpj_on) })
      : gr.lpj_due ? t("gr.lpj_due", { date: date(gr.lpj_due) }) : t("gr.lpj_open");
    const r = gr.rollover;
    return h("li", { class: "grant" },
      h("div", { class: "visit-head" }, h("strong", null, word("grantkind", gr.kind)),
        h("span", null, word("grantform", gr.form)), h("strong", null, rp(gr.amount))),
      h("div", { class: "hint" }, t("gr.received", { date: date(gr.received_on) })),
      h("div", { class: gr.lpj_on ? "ok" : "pending" }, lpj),
      r && h("div", { class: "rollover" },
        h("div", null, h("strong", null, t("gr.rollover")), ": ", word("rollstatus", r.status),
          r.due && ` · ${t("gr.rollover_due", { date: date(r.due) })}`),
        r.required && r.money_total != null && progress(t("gr.money"), r.money_done || 0, r.money_total, rp),
        r.required && r.households_total != null && progress(t("gr.households"), r.households_done || 0, r.households_total, num)));
  }

  // The group's place, the distance a visit may be from it, and where each visit was logged.
  function placeMap(g, visits) {
    const located = visits.filter((v) => v.location);
    if (!window.L || (!g.place && !located.length)) return null;
    const box = h("div", { class: "map small", role: "img", "aria-label": t("g.place") });
    afterShow.push(() => {
      const map = baseMap(box);
      const points = [];
      if (g.place) {
        const at = [g.place.lat, g.place.lon];
        L.circle(at, { radius: (me.far_km || 2) * 1000, color: "#2481cc", weight: 1, fillOpacity: 0.06 }).addTo(map);
        L.circleMarker(at, { radius: 7, color: "#ffffff", weight: 2, fillColor: "#2481cc", fillOpacity: 1 })
          .bindTooltip(t("g.place")).addTo(map);
        points.push(at);
      }
      for (const v of located) {
        const at = [v.location.lat, v.location.lon];
        L.circleMarker(at, {
          radius: 6, weight: 2, color: "#ffffff", fillOpacity: 0.95,
          fillColor: v.check === "far" ? COLOURS.overdue : v.check === "ok" ? COLOURS.on_time : COLOURS.none,
          className: `visit-point check-point-${v.check}`,
        }).bindTooltip(date(v.on)).addTo(map);
        points.push(at);
      }
      map.fitBounds(points, { padding: [20, 20], maxZoom: 14 });
    });
    return box;
  }

  async function groupView(id) {
    if (!/^\d+$/.test(id)) throw new NotFound(id);
    const data = await api("api/groups/" + id);
    const g = data.group;
    document.title = `${g.name} · ${t("title")}`;
    return h("article", { class: "group" },
      h("a", { class: "back", href: "#/kelompok", onclick: (e) => {
        if (history.length > 1) { e.preventDefault(); history.back(); }
      } }, t("g.back")),
      h("h1", null, g.name, " ", badge("status", g.status, word("status", g.status))),
      h("section", null, h("h2", null, t("g.profile")), profile(g), placeMap(g, data.visits)),
      h("section", null, h("h2", null, t("g.households")), households(data)),
      h("section", null, h("h2", null, t("g.figures")), chart(data.figures || [])),
      h("section", null, h("h2", null, t("g.visits")), data.visits.length
        ? h("ol", { class: "visits" }, data.visits.map(visit))
        : h("p", { class: "hint" }, t("g.visits.none"))),
      h("section", null, h("h2", null, t("g.history")), historyList(data.history || [])),
      h("section", null, h("h2", null, t("g.grants")), data.grants.length
        ? h("ul", { class: "grants" }, data.grants.map(grant))
        : h("p", { class: "hint" }, t("g.grants.none"))));
  }

  // ---- Start ------------------------------------------------------------------------------
  function chrome() {
    document.documentElement.lang = lang;
    document.title = t("title");
    document.getElementById("title").textContent = t("title");
    document.getElementById("who").textContent = me
      ? `${me.name} · ${me.area ? me.area.name : t("all_areas")}` : "";
    for (const tab of document.querySelectorAll("nav a")) tab.textContent = t("nav." + tab.dataset.view);
  }

  async function start() {
    postEvent("web_app_ready");
    postEvent("web_app_expand");
    chrome();
    try {
      me = await api("api/me");
    } catch (error) {
      show(problem(error, () => start()));
      return;
    }
    if (me.lang && T[me.lang]) lang = me.lang;
    // The domain's words (stages, roles, business types, …) are the bot's own, in the user's
    // language: the chat and the dashboard say the same.
    Object.assign(T[lang], me.words || {});
    chrome();
    window.addEventListener("hashchange", () => {
      if (!location.hash.includes("tgWebApp")) {
        document.title = t("title");
        render();
      }
    });
    render();
  }

  // Whatever goes wrong, the user sees a plain sentence, never a stack trace.
  window.addEventListener("unhandledrejection", (e) => { e.preventDefault(); });
  window.addEventListener("error", (e) => {
    if (e.error) {
      e.preventDefault();
      show(problem(e.error, () => render()));
    }
  });

  start();
})();
