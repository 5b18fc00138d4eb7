"""A stand-in for the dashboard's server while the page is built and its browser tests run:
it serves bot/web/static/ and canned answers shaped as bot/web/API.md says, for a made-up
regency of 14 groups. A development aid, not part of the product.

By hand: `python -m tests.web.fake_api` prints a link that opens the page signed in.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

from aiohttp import web
from PIL import Image

STATIC = Path(__file__).resolve().parents[2] / "bot" / "web" / "static"
# What the page sends as X-Telegram-Init-Data; the real server checks Telegram's HMAC.
INIT_DATA = "query_id=AAF&user=%7B%22id%22%3A900002%2C%22first_name%22%3A%22Budi%22%7D&auth_date=1795000000&hash=fake"
SESSION = "fake-session"
TODAY = date(2026, 11, 25)
# A group with several visits (one far, one without location, photos): the browser tests
# open it.
GROUP_WITH_VISITS = 1

DISTRICTS = [("32.02.01", "Kec. Cibadak"), ("32.02.02", "Kec. Cicurug"), ("32.02.03", "Kec. Parungkuda")]
VILLAGES = [
    ("32.02.01.2001", "Desa Cibadak", "32.02.01"), ("32.02.01.2002", "Desa Karangtengah", "32.02.01"),
    ("32.02.02.2001", "Desa Cicurug", "32.02.02"), ("32.02.02.2002", "Desa Nyangkowek", "32.02.02"),
    ("32.02.03.2001", "Desa Parungkuda", "32.02.03"), ("32.02.03.2002", "Desa Kompa", "32.02.03"),
]
MENTORS = [(4, "Siti Rahma", "tksk"), (5, "Agus Salim", "psm"), (6, "Dewi Lestari", "pkh"),
           (7, "Joko Widodo Putra", "karang_taruna")]
NAMES = ["Mawar", "Melati", "Anggrek", "Kenanga", "Dahlia", "Flamboyan", "Cempaka", "Teratai",
         "Sakura", "Tulip", "Seruni", "Kamboja", "Bougenville", "Lili"]
STAGES = ["tumbuh", "berkembang", "mandiri"]


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _groups() -> list[dict]:
    rows = []
    for i, name in enumerate(NAMES, start=1):
        village = VILLAGES[(i - 1) % len(VILLAGES)]
        district = next(d for d in DISTRICTS if d[0] == village[2])
        mentor = MENTORS[(i - 1) % len(MENTORS)]
        status = "bubar" if i == 13 else "tidak_aktif" if i == 9 else "aktif"
        last = TODAY - timedelta(days=(i * 7) % 50)
        next_due = last + timedelta(days=30)
        late = (TODAY - next_due).days
        visit = (None if status == "bubar" else "overdue" if late > 0
                 else "due" if late > -7 else "on_time")
        placed = i not in (6, 11)
        rows.append({
            "id": i, "name": f"KUBE {name}",
            "village": {"code": village[0], "name": village[1]},
            "district": {"code": district[0], "name": district[1]},
            "mentor": {"id": mentor[0], "name": mentor[1]},
            "stage": STAGES[i % 3], "status": status, "members": 5 + i % 5,
            "last_visit": _iso(last), "next_due": _iso(next_due),
            "days_overdue": max(0, late), "visit": visit,
            "place": {"lat": -6.90 - 0.02 * (i % 5), "lon": 106.78 + 0.03 * (i % 4),
                      "source": "recorded" if i % 2 else "visits"} if placed else None,
            "far_visits": 1 if i == GROUP_WITH_VISITS else 0,
            "no_location_visits": 1 if i in (GROUP_WITH_VISITS, 4) else 0,
        })
    return rows


GROUPS = _groups()
SORT_KEYS = {
    "name": lambda g: g["name"], "village": lambda g: g["village"]["name"],
    "mentor": lambda g: g["mentor"]["name"], "stage": lambda g: STAGES.index(g["stage"]),
    "status": lambda g: g["status"], "last_visit": lambda g: g["last_visit"] or "",
    "next_due": lambda g: g["next_due"] or "", "days_overdue": lambda g: g["days_overdue"],
}


def me() -> dict:
    return {"name": "Budi Hartono", "role": "coordinator", "lang": "id",
            "area": {"code": "32.02", "name": "Kab. Sukabumi"},
            "periods": [{"key": "bulan_ini", "label": "November 2026"},
                        {"key": "bulan_lalu", "label": "Oktober 2026"},
                        {"key": "triwulan_ini", "label": "Triwulan IV 2026"},
                        {"key": "tahun_ini", "label": "2026"}],
            "tiles_url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "far_km": 2.0}


def overview(period: str) -> dict | None:
    label = next((p["label"] for p in me()["periods"] if p["key"] == period), None)
    if label is None:
        return None
    active = [g for g in GROUPS if g["status"] == "aktif"]
    with_visit = [g for g in GROUPS if g["visit"]]

    def on_time(groups: list[dict]) -> float | None:
        return (sum(g["visit"] != "overdue" for g in groups) / len(groups)) if groups else None

    districts = []
    for code, name in DISTRICTS:
        mine = [g for g in GROUPS if g["district"]["code"] == code]
        districts.append({
            "code": code, "name": name, "groups": len(mine),
            "aktif": sum(g["status"] == "aktif" for g in mine),
            "overdue": sum(g["visit"] == "overdue" for g in mine),
            "on_time_share": on_time([g for g in mine if g["visit"]]),
            "visits": 3 * len(mine), "far": sum(g["far_visits"] for g in mine),
            "no_location": sum(g["no_location_visits"] for g in mine), "graduations": len(mine) % 2})
    return {
        "period": {"key": period, "label": label, "start": "2026-11-01", "end": "2026-11-30"},
        "groups": {"total": len(GROUPS), "aktif": len(active),
                   "tidak_aktif": sum(g["status"] == "tidak_aktif" for g in GROUPS),
                   "bubar": sum(g["status"] == "bubar" for g in GROUPS)},
        "stages": {s: sum(g["stage"] == s for g in active) for s in STAGES},
        "on_time_share": on_time(with_visit),
        "overdue": sum(g["visit"] == "overdue" for g in GROUPS),
        "graduations": sum(d["graduations"] for d in districts),
        "visits": {"total": sum(d["visits"] for d in districts),
                   "far": sum(d["far"] for d in districts),
                   "no_location": sum(d["no_location"] for d in districts)},
        "districts": districts,
    }


def groups(query: dict[str, str]) -> dict:
    picked = GROUPS
    for key, value in query.items():
        if not value:
            continue
        if key == "district":
            picked = [g for g in picked if g["district"]["code"] == value]
        elif key == "village":
            picked = [g for g in picked if g["village"]["code"] == value]
        elif key == "mentor":
            picked = [g for g in picked if str(g["mentor"]["id"]) == value]
        elif key in ("stage", "status", "visit"):
            picked = [g for g in picked if g[key] == value]
    sort = query.get("sort") or "days_overdue"
    descending = query.get("order", "desc" if sort == "days_overdue" else "asc") == "desc"
    picked = sorted(picked, key=SORT_KEYS.get(sort, SORT_KEYS["days_overdue"]), reverse=descending)
    return {"groups": picked, "filters": {
        "districts": [{"code": c, "name": n} for c, n in DISTRICTS],
        "villages": [{"code": c, "name": n, "district": d} for c, n, d in VILLAGES],
        "mentors": [{"id": i, "name": n} for i, n, _ in MENTORS]}}


def mentors() -> dict:
    rows = []
    for mentor_id, name, affiliation in MENTORS:
        mine = [g for g in GROUPS if g["mentor"]["id"] == mentor_id and g["visit"]]
        share = sum(g["visit"] != "overdue" for g in mine) / len(mine) if mine else 1.0
        rows.append({"id": mentor_id, "name": name, "affiliation": affiliation,
                     "groups": len(mine), "overdue": sum(g["visit"] == "overdue" for g in mine),
                     "on_time_share": share,
                     "light": "green" if share >= 0.85 else "yellow" if share >= 0.6 else "red",
                     "last_visit": max(g["last_visit"] for g in mine) if mine else None})
    return {"mentors": rows}


def group(group_id: int) -> dict | None:
    row = next((g for g in GROUPS if g["id"] == group_id), None)
    if row is None:
        return None
    visits_count = 0 if group_id == 12 else 4 if group_id == GROUP_WITH_VISITS else 2
    last = date.fromisoformat(row["last_visit"])
    visits = []
    for n in range(visits_count):
        on = last - timedelta(days=30 * n)
        far = group_id == GROUP_WITH_VISITS and n == 1
        none = group_id == GROUP_WITH_VISITS and n == 2
        place = row["place"] or {"lat": -6.9, "lon": 106.8}
        visit_id = group_id * 100 + n
        visits.append({
            "id": visit_id, "on": on.isoformat(), "mentor": row["mentor"]["name"],
            "attendance": row["members"] - n % 2,
            "activities": ["pemantauan", "pembukuan"] if n % 2 else ["pelatihan"],
            "turnover": 1_500_000 - 200_000 * n, "profit": 250_000 - 30_000 * n,
            "cash": 400_000 - 50_000 * n, "solidarity_fee": 20_000,
            "problems": "Harga pakan naik" if n == 0 else None,
            "follow_up": "Cari pemasok pakan bersama" if n == 0 else None,
            "location": None if none else {"lat": place["lat"] + (0.03 if far else 0.001),
                                           "lon": place["lon"]},
            "check": "none" if none else "unknown" if row["place"] is None
            else "far" if far else "ok",
            "distance_km": None if none or row["place"] is None else 3.4 if far else 0.1,
            "photos": [f"/api/visits/{visit_id}/photos/0"] if n == 0 else [],
            "corrected_at": None})
    return {
        "group": {**{k: row[k] for k in ("id", "name", "village", "district", "mentor", "stage",
                                          "status", "last_visit", "next_due", "visit", "place")},
                  "business_type": "ternak", "binding_ties": ["kedekatan", "jenis_usaha"],
                  "formed_on": "2026-01-05",
                  "status_on": "2026-10-01" if row["status"] != "aktif" else None,
                  "status_reason": "usaha_berhenti" if row["status"] != "aktif" else None,
                  "visit_interval_days": 30},
        "households": [{"id": group_id * 10 + n, "name": name, "role": role, "category": category,
                        "sex": sex, "dtks": "desil 2" if n < 3 else None,
                        "nik": f"3202••••••••000{n + 1}", "phone": "0812••••6666" if n < 2 else None,
                        "active": n != 4, "left_on": "2026-09-01" if n == 4 else None,
                        "left_reason": "graduasi" if n == 4 else None}
                       for n, (name, role, category, sex) in enumerate([
                           ("Siti Aminah", "ketua", "miskin", "p"),
                           ("Budi Santoso", "sekretaris", "fakir_miskin", "l"),
                           ("Rina Wati", "bendahara", "hampir_miskin", "p"),
                           ("Joko Susilo", "anggota", "miskin", "l"),
                           ("Asep Sunandar", "anggota", "miskin", "l")])],
        "categories": {"fakir_miskin": 1, "miskin": 2, "hampir_miskin": 1},
        "history": [{"on": "2026-06-01", "kind": "stage", "old": "tumbuh", "new": "berkembang",
                     "note": "Keuntungan mulai dibagi"}],
        "visits": visits,
        "figures": [{"on": v["on"], "turnover": v["turnover"], "profit": v["profit"],
                     "cash": v["cash"]} for v in reversed(visits)],
        "grants": [{"id": 5, "kind": "uep", "form": "tunai", "amount": 15_000_000,
                    "received_on": "2026-02-01", "lpj_due": "2026-05-01", "lpj_on": "2026-04-20",
                    "rollover": {"required": True, "money_done": 3_000_000,
                                 "money_total": 10_000_000, "households_done": 1,
                                 "households_total": 5, "status": "sebagian",
                                 "due": "2027-02-01"}}],
    }


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (160, 120), (70, 140, 90)).save(out, "JPEG", quality=70)
    return out.getvalue()


def _error(status: int, code: str) -> web.Response:
    return web.json_response({"error": code}, status=status)


@web.middleware
async def _signed_in(request: web.Request, handler):
    if request.path.startswith("/api/") and not (
            request.headers.get("X-Telegram-Init-Data") == INIT_DATA
            or request.cookies.get("pk_session") == SESSION):
        return _error(401, "unauthorized")
    return await handler(request)


def make_app() -> web.Application:
    photo = _photo()

    async def index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

    async def api_me(request: web.Request) -> web.Response:
        return web.json_response(me())

    async def api_overview(request: web.Request) -> web.Response:
        answer = overview(request.query.get("period", ""))
        return web.json_response(answer) if answer else _error(400, "bad_request")

    async def api_groups(request: web.Request) -> web.Response:
        return web.json_response(groups(dict(request.query)))

    async def api_mentors(request: web.Request) -> web.Response:
        return web.json_response(mentors())

    async def api_group(request: web.Request) -> web.Response:
        answer = group(int(request.match_info["id"]))
        return web.json_response(answer) if answer else _error(404, "not_found")

    async def api_photo(request: web.Request) -> web.Response:
        return web.Response(body=photo, content_type="image/jpeg")

    app = web.Application(middlewares=[_signed_in])
    app.router.add_get("/", index)
    app.router.add_get("/api/me", api_me)
    app.router.add_get("/api/overview", api_overview)
    app.router.add_get("/api/groups", api_groups)
    app.router.add_get("/api/mentors", api_mentors)
    app.router.add_get(r"/api/groups/{id:\d+}", api_group)
    app.router.add_get(r"/api/visits/{id:\d+}/photos/{n:\d+}", api_photo)
    app.router.add_static("/", STATIC)
    return app


@contextmanager
def serving(port: int = 0) -> Iterator[str]:
    """Runs the fake server on 127.0.0.1 in a thread with its own event loop (the caller's
    thread may run one already: Playwright's sync API does); yields its base URL."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    bound: list[int] = []

    async def run() -> web.AppRunner:
        runner = web.AppRunner(make_app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        bound.append(runner.addresses[0][1])
        return runner

    def thread_main() -> None:
        asyncio.set_event_loop(loop)
        runner = loop.run_until_complete(run())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=thread_main, name="fake-dashboard", daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the fake dashboard server did not start")
    try:
        yield f"http://127.0.0.1:{bound[0]}/"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


def signed_in_url(base_url: str, init_data: str = INIT_DATA) -> str:
    """The address Telegram would open: the page with tgWebAppData in its fragment."""
    return f"{base_url}#tgWebAppData={quote(init_data, safe='')}&tgWebAppVersion=8.0&tgWebAppPlatform=web"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8099)
    args = parser.parse_args()
    with serving(args.port) as base:
        print(signed_in_url(base), flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
