"""Indonesian administrative areas in memory: look-up by code and fuzzy search by name.

Mentors type place names on a phone, often misspelt ("sukabumu") or with a prefix ("kab
bandung", "kec. cibadak"). :class:`PlaceIndex` finds the matching provinces, regencies,
districts and villages quickly enough to answer while the mentor waits, from the official
Kemendagri codes in ``bot/core/data/wilayah`` (ODbL, see the README there). Codes are
hierarchical: village ``32.01.01.2001`` lies in district ``32.01.01``, regency ``32.01``
and province ``32``.
"""

from __future__ import annotations

import csv
import heapq
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz, process

__all__ = [
    "WILAYAH_DIR",
    "Place",
    "PlaceIndex",
    "default_index",
    "timezone_abbr",
    "timezone_for",
    "village_kind",
    "village_short_name",
]

WILAYAH_DIR = Path(__file__).resolve().parent / "data" / "wilayah"

PROVINCE, REGENCY, DISTRICT, VILLAGE = 1, 2, 3, 4
ALL_LEVELS = frozenset({PROVINCE, REGENCY, DISTRICT, VILLAGE})

# Fuzzy matches below this WRatio score are not worth showing.
_SCORE_CUTOFF = 75.0
# Queries shorter than this only match exactly or as the start of a name.
_MIN_FUZZY_LENGTH = 3
# How many fuzzy matches per level and query variant are ranked (exact matches always are).
_FUZZY_POOL = 100
# Searches remembered (query, levels, area, limit): a few hundred bytes each.
_CACHE_SIZE = 2048


@dataclass(frozen=True, slots=True)
class Place:
    """One area: its code, level (1 province … 4 village), official name and a label with context.

    Labels: "Jawa Barat"; "Kab. Sukabumi, Jawa Barat"; "Kec. Cibadak, Kab. Sukabumi, Jawa
    Barat"; "Desa Sukamaju, Kec. Cibadak, Kab. Sukabumi" (villages coded 1xxx are
    kelurahan: "Kel. …").
    """

    code: str
    level: int
    name: str
    label: str


# --------------------------------------------------------------------------------------
# Time zones
# --------------------------------------------------------------------------------------

_ZONES = {
    # The README's "11-36" means the provinces in that range (there is no 20 or 22-30).
    "WIB": ("Asia/Jakarta", [*range(11, 20), 21, *range(31, 37), 61, 62]),
    "WITA": ("Asia/Makassar", [51, 52, 53, 63, 64, 65, *range(71, 77)]),
    "WIT": ("Asia/Jayapura", [81, 82, *range(91, 97)]),
}
_ZONE_BY_PROVINCE = {
    f"{province:02d}": abbr for abbr, (_, provinces) in _ZONES.items() for province in provinces
}


def timezone_abbr(code: str) -> str:
    """The time zone abbreviation, "WIB", "WITA" or "WIT", of any area code.

    The province (the code's first two digits) decides.

    Raises ValueError for a code outside the known provinces: a wrong time zone would
    silently shift every reminder.
    """
    abbr = _ZONE_BY_PROVINCE.get(code[:2]) if isinstance(code, str) else None
    if abbr is None:
        raise ValueError("not an Indonesian area code")
    return abbr


def timezone_for(code: str) -> str:
    """The IANA time zone of an area: "Asia/Jakarta", "Asia/Makassar" or "Asia/Jayapura"."""
    return _ZONES[timezone_abbr(code)][0]


def zone_for(code: str) -> ZoneInfo:
    """The time zone of an area as a ZoneInfo (raises like :func:`timezone_for`)."""
    return _province_zone(code[:2] if isinstance(code, str) else code)


@cache
def _province_zone(province: str) -> ZoneInfo:
    # Per province: the reminder sweep asks once per due item, and there are few provinces.
    return ZoneInfo(timezone_for(province))


# --------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_APOSTROPHES = re.compile("['`\u2018\u2019]")

# Words that announce the kind of area; typed before a name they are a hint, not the name.
_HINTS = {
    "provinsi": "provinsi",
    "propinsi": "provinsi",
    "prov": "provinsi",
    "prop": "provinsi",
    "kabupaten": "kabupaten",
    "kab": "kabupaten",
    "kota": "kota",
    "kecamatan": "kecamatan",
    "kec": "kecamatan",
    "desa": "desa",
    "ds": "desa",
    "kelurahan": "kelurahan",
    "kel": "kelurahan",
}
_HINT_SKIP = frozenset({"administrasi", "adm"})

_REGENCY_PREFIXES = (
    ("Kabupaten Administrasi ", "Kab. Adm. ", "kabupaten"),
    ("Kabupaten ", "Kab. ", "kabupaten"),
    ("Kota Administrasi ", "Kota Adm. ", "kota"),
    ("Kota ", "Kota ", "kota"),
)


def _normalise(text: str) -> str:
    """Lowercase ASCII-ish words: "Kab. Bandung-Barat" → "kab bandung barat"."""
    text = _APOSTROPHES.sub("", unicodedata.normalize("NFKC", text).lower())
    return _NOT_ALNUM.sub(" ", text).strip()


def _split_hint(query: str) -> tuple[str, str | None, frozenset[str]]:
    """("bandung", "kabupaten", {"kab bandung"}) for "kab bandung": the name, the hint (None
    when there is none) and the query with fewer leading kind words, each of which may be
    a whole name too ("Kota Manna" is a district, "Kec. Kota Manna" names it)."""
    words = query.split(" ")
    hint = None
    named = set()
    while len(words) > 1 and (words[0] in _HINTS or words[0] in _HINT_SKIP):
        named.add(" ".join(words))
        hint = _HINTS.get(words[0], hint)
        words = words[1:]
    return " ".join(words), hint, frozenset(named)


def _regency_parts(name: str) -> tuple[str, str, str]:
    """(short label, kind, bare name) for a regency: "Kabupaten Bandung" → ("Kab. Bandung", …)."""
    for prefix, short, kind in _REGENCY_PREFIXES:
        if name.startswith(prefix):
            bare = name[len(prefix) :]
            return short + bare, kind, bare
    return name, "kabupaten", name


def village_kind(code: str) -> str:
    """"kelurahan" or "desa": Kemendagri numbers kelurahan 1001-1999 (the code's 7th digit is
    1) and desa 2001-2999 (and desa adat 3xxx)."""
    return "kelurahan" if code.rsplit(".", 1)[-1].startswith("1") else "desa"


def village_short_name(code: str, name: str) -> str:
    """"Desa Sukamaju" or "Kel. Cibadak" (a name that already says its kind stays as it is)."""
    if _normalise(name).startswith(("desa ", "kelurahan ", "kel ")):
        return name
    return f"{'Kel.' if village_kind(code) == 'kelurahan' else 'Desa'} {name}"


def short_name(code: str, name: str) -> str:
    """How an area is named on its own, by its code's level: "Jawa Barat", "Kab. Sukabumi",
    "Kec. Cibadak", "Desa Sukamaju" or "Kel. Cibadak"."""
    level = code.count(".") + 1
    if level == REGENCY:
        return _regency_parts(name)[0]
    if level == DISTRICT:
        return f"Kec. {name}"
    if level == VILLAGE:
        return village_short_name(code, name)
    return name


def _spelt_inside(key: str, query: str) -> bool:
    """Whether a name spelt like ``key`` is some of the query's whole words ("cibadak" in
    "cibadk sukabumi", "ciamis" in "kabupeten ciamis"), not a piece of one ("jati" in
    "warnajati")."""
    words, size = query.split(" "), key.count(" ") + 1
    return any(fuzz.ratio(key, " ".join(words[at:at + size]), score_cutoff=80)
               for at in range(len(words) - size + 1))


class PlaceIndex:
    """All areas in memory, for look-up by code, listing of children and fuzzy search by name.

    Build it once (:func:`default_index` for the shipped data) and share it: it is
    read-only after construction.
    """

    def __init__(self) -> None:
        self._places: dict[str, Place] = {}
        self._children: dict[str, list[str]] = {}
        # Per level, aligned and sorted by code: codes, normalised names, kinds.
        self._codes: dict[int, list[str]] = {}
        self._keys: dict[int, list[str]] = {}
        self._kinds: dict[int, list[str]] = {}
        # Per level: normalised name → positions in the lists above.
        self._exact: dict[int, dict[str, list[int]]] = {}
        # Per level, sorted: every name from each of its words on ("bandung barat", "barat"),
        # with the name's position and whether that is its first word: a prefix is a bisect.
        self._starts: dict[int, tuple[list[str], list[int], list[bool]]] = {}
        # The same words are typed again and again (a whole office signs up at once); the
        # index is read-only, so an answer stays right.
        self._cached_search = lru_cache(maxsize=_CACHE_SIZE)(self._search)

    # ---- construction ---------------------------------------------------------------

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str | None, int, str]]) -> PlaceIndex:
        """Builds the index from (code, parent_code, level, name) rows, in any order.

        Provinces have no parent (None or ""). Parents missing from the rows only make the
        labels shorter.
        """
        raw: dict[str, tuple[str, int, str]] = {}
        for code, parent, level, name in rows:
            raw[code] = (parent or "", int(level), name)

        index = cls()
        short_names: dict[str, str] = {}
        kinds: dict[str, str] = {}
        keys: dict[str, str] = {}
        for code, (_, level, name) in raw.items():
            if level == REGENCY:
                short, kind, bare = _regency_parts(name)
                short_names[code], kinds[code], keys[code] = short, kind, _normalise(bare)
            elif level == DISTRICT:
                short_names[code], kinds[code] = short_name(code, name), "kecamatan"
                keys[code] = _normalise(name)
            elif level == VILLAGE:
                short_names[code] = village_short_name(code, name)
                kinds[code], keys[code] = village_kind(code), _normalise(name)
            else:
                short_names[code], kinds[code], keys[code] = name, "provinsi", _normalise(name)

        per_level: dict[int, list[str]] = {}
        for code, (parent, level, name) in raw.items():
            parts = [short_names[code]]
            ancestor = parent
            # Villages show district and regency; others go up to the province.
            depth = 2 if level == VILLAGE else 3
            while ancestor and len(parts) <= depth and ancestor in raw:
                parts.append(short_names[ancestor])
                ancestor = raw[ancestor][0]
            index._places[code] = Place(code, level, name, ", ".join(parts))
            index._children.setdefault(parent, []).append(code)
            per_level.setdefault(level, []).append(code)

        for children in index._children.values():
            children.sort()
        for level, codes in per_level.items():
            codes.sort()
            index._codes[level] = codes
            index._keys[level] = [keys[code] for code in codes]
            index._kinds[level] = [kinds[code] for code in codes]
            exact: dict[str, list[int]] = {}
            for position, key in enumerate(index._keys[level]):
                exact.setdefault(key, []).append(position)
            index._exact[level] = exact
            starts = sorted(
                (key[word:], position, word == 0)
                for position, key in enumerate(index._keys[level])
                for word in (0, *(at + 1 for at, char in enumerate(key) if char == " "))
            )
            index._starts[level] = ([s for s, _, _ in starts], [p for _, p, _ in starts],
                                    [f for _, _, f in starts])
        return index

    @classmethod
    def from_csv_dir(cls, path: Path | str = WILAYAH_DIR) -> PlaceIndex:
        """Builds the index from provinces.csv, regencies.csv, districts.csv and villages.csv."""
        directory = Path(path)
        files = (
            ("provinces.csv", PROVINCE, None),
            ("regencies.csv", REGENCY, "province_code"),
            ("districts.csv", DISTRICT, "regency_code"),
            ("villages.csv", VILLAGE, "district_code"),
        )

        def rows() -> Iterable[tuple[str, str | None, int, str]]:
            for filename, level, parent_column in files:
                with open(directory / filename, newline="", encoding="utf-8") as handle:
                    reader = csv.reader(handle)
                    header = next(reader)
                    code_at, name_at = header.index("code"), header.index("name")
                    parent_at = header.index(parent_column) if parent_column else None
                    for row in reader:
                        parent = row[parent_at] if parent_at is not None else None
                        yield row[code_at], parent, level, row[name_at]

        return cls.from_rows(rows())

    # ---- look-up --------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._places)

    def __contains__(self, code: object) -> bool:
        return code in self._places

    def get(self, code: str) -> Place | None:
        """The area with this code, or None."""
        return self._places.get(code)

    def children(self, code: str | None) -> list[Place]:
        """The areas directly inside ``code``, by code; ``None`` or "" lists the provinces."""
        return [self._places[child] for child in self._children.get(code or "", [])]

    def parents(self, code: str) -> list[Place]:
        """The areas containing ``code``, nearest first (district, regency, province)."""
        found = []
        parts = code.split(".")
        for end in range(len(parts) - 1, 0, -1):
            place = self._places.get(".".join(parts[:end]))
            if place is not None:
                found.append(place)
        return found

    timezone_for = staticmethod(timezone_for)
    timezone_abbr = staticmethod(timezone_abbr)

    def search_work_area(self, query: str, *, levels: set[int] | frozenset[int],
                         within: str | None = None, limit: int = 6
                         ) -> tuple[list[Place], list[Place]]:
        """:meth:`search` for a work area (a province, regency or district), knowing that
        people often type their village: a village of exactly that name puts its district
        first. Returns (areas to offer, the villages that were meant)."""
        bare, _hint, _named = _split_hint(_normalise(query[:100]))
        areas = self.search(query, levels=levels, within=within, limit=limit)
        if any(_normalise(place.name).endswith(bare) for place in areas):
            return areas, []  # an area of that name: what was typed is no village
        # Only villages of exactly that name count: a look-up, not a search of 84 000 names.
        lo, hi = self._range(VILLAGE, within)
        villages = [place for place in (self._places[self._codes[VILLAGE][at]]
                                        for at in self._exact.get(VILLAGE, {}).get(bare, ())
                                        if lo <= at < hi)
                    if self.parents(place.code)[:1]
                    and self.parents(place.code)[0].level in levels][:3]
        districts = list(dict.fromkeys(self.parents(v.code)[0] for v in villages))
        found = districts + [place for place in areas if place not in districts]
        return found[:limit], villages

    # ---- search ---------------------------------------------------------------------

    def _range(self, level: int, within: str | None) -> tuple[int, int]:
        """Indices of the codes of ``level`` equal to ``within`` or under it."""
        codes = self._codes.get(level, [])
        if not within:
            return 0, len(codes)
        # "/" sorts right after ".", so [within, within + "/") holds within and within.*
        return bisect_left(codes, within), bisect_left(codes, within + "/")

    def example(self, level: int, within: str | None, default: str) -> str:
        """A real name of ``level`` inside ``within``, for a question's "Contoh:" (a mentor in
        Papua should not be shown a village of Sukabumi); ``default`` when there is none."""
        start, end = self._range(level, within)
        if start >= end:
            return default
        # The middle one rather than the first: less often an odd "Kelurahan 1"-style name.
        return self._places[self._codes[level][(start + end) // 2]].name

    def search(
        self,
        query: str,
        *,
        levels: set[int] | frozenset[int] = ALL_LEVELS,
        within: str | None = None,
        limit: int = 5,
    ) -> list[Place]:
        """The areas whose name best matches ``query``, best first, at most ``limit``.

        Names are compared lowercased without "Kabupaten"/"Kota"; a leading "kab", "kota",
        "kec", "desa", "kel" in the query is a hint that ranks areas of that kind first (so
        "kab bandung" puts Kabupaten Bandung before Kota Bandung). Names equal to the query,
        starting with it, or with a word starting with it are the answer when there are any:
        a near spelling of another name ("Cianjur" and Kecamatan Cina) is then left out.
        Only when there are none is the search fuzzy (rapidfuzz), for misspelt names.
        Order: the whole name as typed, kind word and all ("kota manna" is Kecamatan Kota
        Manna before Kecamatan Manna), exact name matches, hinted kind, names starting with
        the query, then words starting with it (higher areas first: "cianj" finds Kabupaten
        Cianjur before its kecamatan), then score, level, name. ``within`` keeps only areas
        under that code ("32.02" → Kabupaten Sukabumi).
        """
        if not isinstance(query, str) or limit <= 0:
            return []
        levels_key = frozenset(levels)
        return list(self._cached_search(query[:100], levels_key, within or None, limit))

    def _search(self, query: str, levels: frozenset[int], within: str | None,
                limit: int) -> tuple[Place, ...]:
        full = _normalise(query)
        bare, hint, named = _split_hint(full)
        if not bare:
            return ()
        variants = [bare] if bare == full else [bare, full]
        spans = [(level, *self._range(level, within)) for level in sorted(levels)]
        spans = [(level, lo, hi) for level, lo, hi in spans if lo < hi]

        # level -> position -> (tier, score): 0 the name itself, 1 starts with the query,
        # 2 a later word starts with it, 3 only spelt alike.
        found: dict[int, dict[int, tuple[int, float]]] = {}
        for level, lo, hi in spans:
            keys = self._keys[level]
            hits = found.setdefault(level, {})
            for variant in variants:
                for at in self._exact[level].get(variant, ()):
                    if lo <= at < hi:
                        hits[at] = (0, 100.0)
                for at, first in self._starting(level, variant, words=len(bare) >= 3):
                    if lo <= at < hi and at not in hits:
                        hits[at] = (1 if first else 2, fuzz.ratio(bare, keys[at]))
        if not any(found.values()) and len(bare) >= _MIN_FUZZY_LENGTH:
            found = self._fuzzy(variants, spans, limit)

        ranked: list[tuple[tuple, str]] = []
        for level, hits in found.items():
            keys, kinds, codes = self._keys[level], self._kinds[level], self._codes[level]
            for at, (tier, score) in hits.items():
                name = self._places[codes[at]].name
                sort_key = (
                    not (named and _normalise(name) in named),
                    tier != 0,
                    not (hint is None or kinds[at] == hint),
                    tier,
                    level if tier in (1, 2) else 0,
                    -score,
                    -fuzz.ratio(bare, keys[at]) if tier == 3 else 0,
                    level,
                    name,
                )
                ranked.append((sort_key, codes[at]))
        best = heapq.nsmallest(limit, ranked)
        return tuple(self._places[code] for _, code in best)

    def _starting(self, level: int, prefix: str, *, words: bool) -> Iterable[tuple[int, bool]]:
        """(position, whether it is the name's first word) of the names of ``level`` with a
        word starting with ``prefix`` (only the first word unless ``words``)."""
        starts, positions, firsts = self._starts[level]
        # Names hold only a-z, 0-9 and spaces, all below "{".
        end = bisect_left(starts, prefix + "{")
        for i in range(bisect_left(starts, prefix), end):
            if words or firsts[i]:
                yield positions[i], firsts[i]

    def _fuzzy(self, variants: list[str], spans: list[tuple[int, int, int]],
               limit: int) -> dict[int, dict[int, tuple[int, float]]]:
        """Names spelt like a variant, level -> position -> (3, score). The cheap Indel ratio
        first (one wrong, missing or swapped letter scores 80 or more); WRatio, which also
        finds the query inside a longer word ("kab" in Sukabumi), only when that finds none."""
        found: dict[int, dict[int, tuple[int, float]]] = {}
        for scorer in (fuzz.ratio, fuzz.WRatio):
            for level, lo, hi in spans:
                keys = self._keys[level]
                hits = found.setdefault(level, {})
                for variant in variants:
                    # Only the best few can make the list: bounding them keeps the ranking cheap.
                    for key, score, position in process.extract(
                        variant, keys[lo:hi], scorer=scorer, processor=None,
                        score_cutoff=_SCORE_CUTOFF, limit=max(_FUZZY_POOL, limit * 10),
                    ):
                        if scorer is fuzz.WRatio and len(key) < len(variant) \
                                and not _spelt_inside(key, variant):
                            continue  # "Jati" inside "warnajati" is a piece, not a spelling
                        at = lo + position
                        if score > hits.get(at, (3, 0.0))[1]:
                            hits[at] = (3, score)
            if any(found.values()):
                break
        return found


@lru_cache(maxsize=1)
def default_index() -> PlaceIndex:
    """The index of the shipped areas (bot/core/data/wilayah), built once on first use (~1 s)."""
    return PlaceIndex.from_csv_dir(WILAYAH_DIR)
