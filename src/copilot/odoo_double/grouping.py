"""``read_group`` (17–19) and ``formatted_read_group`` (19) over the double's records.

Shapes as recorded on real 17.0 and 19.0 servers (``5_read_group`` and ``7_json2`` groups of
``../shared/odoo_recordings``):

- groups come in the groupby fields' order (a many2one or many2many in its comodel's ``_order``, dates
  chronologically, NULL last) unless ``orderby``/``order`` says otherwise;
- a many2many groupby puts a record in each of its values' groups (none: ``False``);
- date buckets: weeks start on Sunday (``en_US``) and are labelled with the US week number ("W42 2026"), hours
  read "11:00 28 Nov" (12-hour clock); datetimes are bucketed in the ``context`` time zone when one is passed,
  UTC otherwise; 19 adds number granularities (``day_of_week``...: floats);
- ``__domain`` is the search domain ANDed with the group's conditions: 19 flattens the conjunction
  (``["&", "&", d, a, b]``), 17 nests each part (``["&", d, "&", a, b]``);
- a field's default aggregate is its ``aggregator`` (``group_operator`` ≤17); ``sum`` of only NULLs is false;
  several aggregates of one field collapse into one key (the last wins);
- fields with a ``group_expand`` (``GROUP_EXPAND``) add ``__fold`` to lazy ``read_group`` rows (and to
  ``formatted_read_group`` rows with ``context.read_group_expand``); maintenance stages also list empty stages.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from copilot.odoo_double.errors import ServerValueError, named
from copilot.odoo_double.schema import NUMERIC

if TYPE_CHECKING:
    from copilot.odoo_double.store import Env

DATE_GRANULARITIES = ("hour", "day", "week", "month", "quarter", "year")
# 19's number granularities (O19 odoo/orm/models.py READ_GROUP_NUMBER_GRANULARITY): the value is a number
NUMBER_GRANULARITIES = ("year_number", "quarter_number", "month_number", "iso_week_number", "day_of_year",
                        "day_of_month", "day_of_week", "hour_number", "minute_number", "second_number")
# (model, field) -> "all" (every comodel record is a group, even empty: maintenance's `_read_group_stage_ids`
# searches every stage) or "present" (only the groups that have records, but rows carry `__fold`: project's
# stages without a default project) — O17/O19 maintenance/models/maintenance.py, project/models/project_task.py
GROUP_EXPAND: dict[tuple[str, str], str] = {
    ("maintenance.request", "stage_id"): "all",
    ("project.task", "stage_id"): "present",
}


# ---------------------------------------------------------------------- keys
def _granularity(env: Env, gran: str) -> str:
    if gran in DATE_GRANULARITIES or (env.db.major >= 19 and gran in NUMBER_GRANULARITIES):
        return gran
    raise ServerValueError(f"Granularity specification isn't correct: {gran!r}")


def _tz(env: Env) -> Any:
    name = env.context.get("tz") if isinstance(env.context, dict) else None
    if not name:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _keys(env: Env, model: str, rec: dict[str, Any] | None, spec_: str) -> list[Any]:
    """The group keys one record falls in for ``spec_`` (several for a many2many; ``[None]`` for none)."""
    if rec is None:
        return [None]
    path, _, gran = spec_.partition(":")
    first, _, rest = path.partition(".")
    f = env.field(model, first)
    if rest:  # "equipment_id.category_id": through one many2one (19's formatted_read_group)
        tid = env.value(model, rec, first)
        trec = env.db.table(f.relation or "").get(tid) if tid else None
        return _keys(env, f.relation or "", trec, rest) if trec else [None]
    val = env.value(model, rec, first)
    if f.type in ("many2many", "one2many"):
        return list(val) if val else [None]
    if val is None or (val is False and f.type != "boolean"):
        return [None]
    if f.type not in ("date", "datetime"):
        return [val]
    gran = _granularity(env, gran or "month")
    moment = datetime.fromisoformat(str(val)[:19])
    tz = _tz(env) if f.type == "datetime" else None
    local = moment.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None) if tz is not None else moment
    if gran in NUMBER_GRANULARITIES:
        return [float(_number(local, gran))]
    start, end = _bucket(local, gran)
    if tz is not None:
        return [(_to_utc(start, tz), _to_utc(end, tz), start)]
    return [(start, end, start)]


def _number(d: datetime, gran: str) -> int:
    return {
        "year_number": d.year, "quarter_number": (d.month - 1) // 3 + 1, "month_number": d.month,
        "iso_week_number": d.isocalendar()[1], "day_of_year": d.timetuple().tm_yday, "day_of_month": d.day,
        "day_of_week": (d.weekday() + 1) % 7,  # PostgreSQL's DOW: Sunday 0
        "hour_number": d.hour, "minute_number": d.minute, "second_number": d.second,
    }[gran]


def _bucket(d: datetime, gran: str) -> tuple[datetime, datetime]:
    if gran == "hour":
        s = d.replace(minute=0, second=0, microsecond=0)
        return s, s + timedelta(hours=1)
    day = datetime(d.year, d.month, d.day)
    if gran == "day":
        return day, day + timedelta(days=1)
    if gran == "week":  # en_US weeks start on Sunday
        s = day - timedelta(days=(d.weekday() + 1) % 7)
        return s, s + timedelta(days=7)
    if gran == "quarter":
        m = 3 * ((d.month - 1) // 3) + 1
        s = datetime(d.year, m, 1)
        return s, datetime(d.year + (m + 3 > 12), (m + 2) % 12 + 1, 1)
    if gran == "year":
        return datetime(d.year, 1, 1), datetime(d.year + 1, 1, 1)
    s = datetime(d.year, d.month, 1)
    return s, s + timedelta(days=calendar.monthrange(d.year, d.month)[1])


def _label(start: datetime, gran: str) -> str:
    if gran == "day":
        return start.strftime("%d %b %Y")
    if gran == "week":  # babel's "'W'w Y" in en_US: weeks from Sunday, week 1 holds 1 January
        week_end = start + timedelta(days=6)
        year = week_end.year if week_end.month == 1 and week_end.day <= 7 and start.year != week_end.year \
            else start.year
        jan1 = datetime(year, 1, 1)
        first = jan1 - timedelta(days=(jan1.weekday() + 1) % 7)
        return f"W{(start - first).days // 7 + 1} {year}"
    if gran == "quarter":
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    if gran == "year":
        return str(start.year)
    if gran == "hour":
        return start.strftime("%I:00 %d %b")
    return start.strftime("%B %Y")


def _to_utc(local: datetime, tz: Any) -> datetime:
    return local.replace(tzinfo=tz).astimezone(UTC).replace(tzinfo=None)


# ---------------------------------------------------------------------- values, conditions, order
def _fmt(env: Env, model: str, spec_: str, moment: datetime) -> str:
    f = env.field(model, spec_.partition(":")[0].split(".")[0])
    return moment.strftime("%Y-%m-%d" if f.type == "date" else "%Y-%m-%d %H:%M:%S")


def _relation_value(env: Env, comodel: str, key: int) -> list[Any] | bool:
    target = env.db.table(comodel).get(key)
    return [key, env.display_name(comodel, target)] if target else False


def _condition(env: Env, model: str, spec_: str, key: Any, others: Sequence[Any]) -> list[Any]:
    """The group's own condition, as a prefix domain."""
    path, _, gran = spec_.partition(":")
    first, _, rest = path.partition(".")
    f = env.field(model, first)
    if rest:
        if key is None:  # 19: no linked record, or a linked record without a value
            return ["|", [first, "not any", []], [first, "any", _condition(env, f.relation or "", rest, key, [])]]
        return [[first, "any", _condition(env, f.relation or "", rest, key, [])]]
    if f.type in ("many2many", "one2many") and key is None:
        if env.db.major >= 19:
            return [[first, "not any", []]]
        return [[first, "not in", [k for k in others if k is not None]]]
    if key is None:
        return [[first, "=", False]]
    if isinstance(key, tuple):
        return ["&", [first, ">=", _fmt(env, model, spec_, key[0])], [first, "<", _fmt(env, model, spec_, key[1])]]
    if gran in NUMBER_GRANULARITIES:
        return [[f"{first}.{gran}", "=", key]]
    return [[first, "=", key]]


def _conjuncts(domain: list[Any]) -> list[list[Any]]:
    """Split a prefix domain into its top-level AND operands (implicit or ``&``)."""
    out: list[list[Any]] = []
    i = 0

    def one() -> list[Any]:
        nonlocal i
        tok = domain[i]
        i += 1
        if tok in ("&", "|"):
            return [tok, *one(), *one()]
        if tok == "!":
            return ["!", *one()]
        return [tok]

    while i < len(domain):
        part = one()
        if part[0] == "&":
            out.extend(_conjuncts(part[1:]))
        else:
            out.append(part)
    return out


def _and(env: Env, parts: Sequence[list[Any]]) -> list[Any]:
    """Odoo's AND of prefix domains: 19 flattens nested conjunctions, 17 keeps each part whole."""
    parts = [p for p in parts if p]
    units = [c for p in parts for c in _conjuncts(list(p))] if env.db.major >= 19 else \
        [p if len(_conjuncts(list(p))) == 1 else ["&"] * (len(_conjuncts(list(p))) - 1) + _flat(p) for p in parts]
    out: list[Any] = ["&"] * (len(units) - 1)
    for u in units:
        out += u
    return out


def _flat(domain: list[Any]) -> list[Any]:
    return [t for c in _conjuncts(list(domain)) for t in c]


def _ranks(env: Env, comodel: str) -> dict[int, int]:
    ids = env._order(comodel, sorted(env.db.table(comodel)), None)
    return {rid: i for i, rid in enumerate(ids)}


def _sort_key(env: Env, model: str, spec_: str, ranks: dict[str, dict[int, int]]) -> Any:
    """A many2one groups in its comodel's ``_order``; a many2many (its relation table) and a dotted path by id;
    the rest by value (a date bucket by its start)."""
    path = spec_.partition(":")[0]
    f = env.field(model, path.split(".")[0])
    if "." not in path and f.type == "many2one" and f.relation in env.db.models:
        comodel = f.relation or ""
        rank = ranks.setdefault(comodel, _ranks(env, comodel))
        return lambda k: (1, 0) if k is None else (0, rank.get(k, k))
    return lambda k: (1, 0) if k is None else (0, k[0] if isinstance(k, tuple) else k)


# ---------------------------------------------------------------------- aggregates
def _aggregate(func: str, vals: list[Any]) -> Any:
    nums = [v for v in vals if v is not None and v is not False]
    if func in ("sum", "avg", "min", "max") and not nums:
        return False  # SQL over only NULLs
    if func == "sum":
        return sum(nums)
    if func == "avg":
        return sum(nums) / len(nums)
    if func == "min":
        return min(nums)
    if func == "max":
        return max(nums)
    if func in ("count", "count_distinct"):
        return len(set(nums)) if func == "count_distinct" else len(nums)
    if func in ("bool_and", "bool_or"):
        return all(vals) if func == "bool_and" else any(vals)
    raise named("psycopg2.errors.UndefinedFunction", f"function {func}(unknown) does not exist")


def _check_type(env: Env, model: str, fname: str, func: str) -> None:
    f = env.field(model, fname)
    if func in ("sum", "avg") and f.type not in NUMERIC:
        kind = {"char": "character varying", "text": "text", "selection": "character varying"}.get(f.type, f.type)
        raise named("psycopg2.errors.UndefinedFunction", f"function {func}({kind}) does not exist")


def _legacy_aggregates(
    env: Env, model: str, fields: Sequence[str], active: Sequence[str]
) -> dict[str, tuple[str, str]]:
    """read_group's ``fields``: ``name`` (its default aggregator), ``name:func``, ``alias:func(name)``."""
    group_fields = {s.split(":")[0] for s in active}
    out: dict[str, tuple[str, str]] = {}
    for spec_ in fields or []:
        if "(" in spec_:
            alias, _, rest = spec_.partition(":")
            func, _, fname = rest.partition("(")
            out[alias] = (func, fname.rstrip(")"))
            _check_type(env, model, fname.rstrip(")"), func)
            continue
        fname, _, func = spec_.partition(":")
        if fname in group_fields or fname == "__count":
            continue
        f = env.field(model, fname)
        func = func or f.group_operator
        if not func:
            continue
        _check_type(env, model, fname, func)
        out[fname] = (func, fname)
    return out


# ---------------------------------------------------------------------- grouping
def _group(env: Env, model: str, ids: Sequence[int], specs: Sequence[str]) -> dict[tuple[Any, ...], list[int]]:
    table = env.db.table(model)
    groups: dict[tuple[Any, ...], list[int]] = {}
    for rid in ids:
        combos: list[tuple[Any, ...]] = [()]
        for sp in specs:
            combos = [(*c, k) for c in combos for k in _keys(env, model, table[rid], sp)]
        for combo in combos:
            groups.setdefault(combo, []).append(rid)
    return groups


def _expand(env: Env, model: str, specs: Sequence[str], groups: dict[tuple[Any, ...], list[int]]) -> str | None:
    """Adds the empty groups of a ``group_expand`` field; returns its comodel (for ``__fold``) or None."""
    fname = specs[0].partition(":")[0]
    how = GROUP_EXPAND.get((model, fname))
    if how is None or len(specs) != 1:
        return None
    comodel = env.field(model, fname).relation or ""
    if how == "all":
        for rid in env._order(comodel, env._search_ids(comodel, []), None):
            groups.setdefault((rid,), [])
    return comodel


def _fold(env: Env, comodel: str, key: Any) -> bool:
    rec = env.db.table(comodel).get(key) if key is not None else None
    return bool(rec and rec.get("fold"))


def _value(env: Env, model: str, spec_: str, key: Any, formatted: bool) -> Any:
    path, _, gran = spec_.partition(":")
    f = env.field(model, path.split(".")[0])
    if "." in path:
        cur = model
        for part in path.split("."):
            f = env.field(cur, part)
            cur = f.relation or cur
        return False if key is None else (_relation_value(env, f.relation or "", key)
                                          if f.type in ("many2one", "many2many") else key)
    if key is None:
        return False
    if f.type in ("many2one", "many2many", "one2many"):
        return _relation_value(env, f.relation or "", key)
    if isinstance(key, tuple):
        label = _label(key[2], gran or "month")
        return [_fmt(env, model, spec_, key[0]), label] if formatted else label
    return key


def read_group(
    env: Env,
    model: str,
    domain: Sequence[Any],
    fields: Sequence[str],
    groupby: Sequence[str] | str,
    offset: int = 0,
    limit: int | None = None,
    orderby: str | bool = False,
    lazy: bool = True,
) -> list[dict[str, Any]]:
    env.check_access(model, "read")
    specs = [groupby] if isinstance(groupby, str) else list(groupby or [])
    for sp in specs:
        if "." in sp.partition(":")[0]:
            raise ServerValueError(f"Invalid field {sp!r} on model {model!r}")
    domain = list(domain or [])
    ids = env._search_ids(model, domain)
    table = env.db.table(model)
    if not specs:  # one row over everything (recorded: g5.read_group.mreq.no_groupby, 17 and 19)
        total: dict[str, Any] = {"__count": len(ids)}
        for alias, (func, fname) in _legacy_aggregates(env, model, fields, []).items():
            total[alias] = _aggregate(func, [env.value(model, table[r], fname) for r in ids])
        total["__domain"] = domain if domain else ([[1, "=", 1]] if env.db.major >= 19 else [])
        return [total]
    active = specs[:1] if lazy else specs
    aggs = _legacy_aggregates(env, model, fields, active)
    groups = _group(env, model, ids, active)
    folded = _expand(env, model, active, groups) if lazy else None
    ranks: dict[str, dict[int, int]] = {}
    sorters = [_sort_key(env, model, sp, ranks) for sp in active]
    ordered = sorted(groups.items(), key=lambda kv: tuple(s(k) for s, k in zip(sorters, kv[0], strict=True)))
    keyed: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    for key, members in ordered:
        row: dict[str, Any] = {}
        conds: list[list[Any]] = []
        for i, (sp, k) in enumerate(zip(active, key, strict=True)):
            row[sp] = _value(env, model, sp, k, formatted=False)
            others = sorted({g[i] for g in groups if g[i] is not None})
            conds.append(_condition(env, model, sp, k, others))
            if isinstance(k, tuple):
                row.setdefault("__range", {})[sp] = {"from": _fmt(env, model, sp, k[0]),
                                                     "to": _fmt(env, model, sp, k[1])}
        if lazy:
            row[f"{active[0].split(':')[0]}_count"] = len(members)
            if len(specs) > 1:
                row["__context"] = {"group_by": specs[1:]}
        else:
            row["__count"] = len(members)
        for alias, (func, fname) in aggs.items():
            row[alias] = _aggregate(func, [env.value(model, table[r], fname) for r in members])
        if folded is not None:
            row["__fold"] = _fold(env, folded, key[0])
        row["__domain"] = _and(env, [domain, *conds])
        keyed.append((key, row))
    if isinstance(orderby, str) and orderby.strip():
        keyed = _order_rows(keyed, orderby, active, sorters)
    rows = [r for _, r in keyed][int(offset or 0):]
    return rows[: int(limit)] if limit else rows


def _order_rows(keyed: list[tuple[tuple[Any, ...], dict[str, Any]]], order: str, specs: Sequence[str],
                sorters: list[Any]) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """Sort rows by ``order`` terms: a groupby (its group order) or a value in the row (aggregate, count)."""
    keyed = list(keyed)
    by_field = {sp.split(":")[0]: i for i, sp in enumerate(specs)} | {sp: i for i, sp in enumerate(specs)}
    for term in reversed([t.strip() for t in order.split(",") if t.strip()]):
        name, *direction = term.split()
        rev = bool(direction) and direction[0].lower() == "desc"
        if name in by_field:
            keyed.sort(key=_by_group(sorters[by_field[name]], by_field[name]), reverse=rev)
        else:
            keyed.sort(key=_by_value(name), reverse=rev)
    return keyed


def _by_group(sorter: Any, i: int) -> Any:
    return lambda kr: sorter(kr[0][i])


def _by_value(name: str) -> Any:
    """NULL (false) last ascending, first descending, as PostgreSQL sorts."""
    return lambda kr: (kr[1].get(name) is None or kr[1].get(name) is False, kr[1].get(name) or 0)


def formatted_read_group(
    env: Env,
    model: str,
    domain: Sequence[Any] = (),
    groupby: Sequence[str] = (),
    aggregates: Sequence[str] = (),
    having: Sequence[Any] = (),
    offset: int = 0,
    limit: int | None = None,
    order: str | None = None,
) -> list[dict[str, Any]]:
    """19's grouping API: one row per group with the group values (a date bucket is ``[start, label]``),
    ``__extra_domain`` (the group's own conditions; ``[[1, "=", 1]]`` without groupby), ``__count`` and
    ``field:func`` aggregates as asked; ``having`` filters on them, ``order`` sorts by a group or an aggregate."""
    env.check_access(model, "read")
    specs = list(groupby or [])
    funcs: list[tuple[str, str, str]] = []  # (key in the row, function, field)
    for agg in aggregates or []:
        if agg == "__count":
            funcs.append(("__count", "count", ""))
            continue
        fname, _, func = agg.partition(":")
        if fname == "__count":
            raise ServerValueError(f"Invalid field '__count' on model '{model}' for '{agg}'.")
        if not func:
            raise ServerValueError(f"Aggregate method is mandatory for '{fname}'")
        env.field(model, fname)
        func = "array_agg" if func == "recordset" else func
        if func != "array_agg":
            _check_type(env, model, fname, func)
        funcs.append((f"{fname}:{func}", func, fname))
    table = env.db.table(model)
    groups = _group(env, model, env._search_ids(model, list(domain or [])), specs)
    folded = _expand(env, model, specs, groups) if specs and env.context.get("read_group_expand") else None
    ranks: dict[str, dict[int, int]] = {}
    sorters = [_sort_key(env, model, sp, ranks) for sp in specs]
    ordered = sorted(groups.items(), key=lambda kv: tuple(s(k) for s, k in zip(sorters, kv[0], strict=True)))
    keyed: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    for key, members in ordered:
        row: dict[str, Any] = {}
        conds: list[list[Any]] = []
        for i, (sp, k) in enumerate(zip(specs, key, strict=True)):
            row[sp] = _value(env, model, sp, k, formatted=True)
            others = sorted({g[i] for g in groups if g[i] is not None})
            conds.append(_condition(env, model, sp, k, others))
        if folded is not None:
            row["__fold"] = _fold(env, folded, key[0])
        row["__extra_domain"] = _and(env, conds) if specs else [[1, "=", 1]]
        for out_key, func, fname in funcs:
            if func == "count":
                row[out_key] = len(members)
                continue
            vals = [env.value(model, table[r], fname) for r in members]
            if func == "array_agg":
                row[out_key] = [None if v is None or v is False else v for v in vals]
            else:
                row[out_key] = _aggregate(func, vals)
        keyed.append((key, row))
    for cond in having or []:
        if isinstance(cond, (list, tuple)) and len(cond) == 3:
            fkey, op, val = cond
            keyed = [kr for kr in keyed if _compare(kr[1].get(fkey), op, val)]
    if order:
        keyed = _order_rows(keyed, order, specs, sorters)
    rows = [r for _, r in keyed][int(offset or 0):]
    return rows[: int(limit)] if limit else rows


def _compare(left: Any, op: str, right: Any) -> bool:
    if left is None or left is False:
        return False
    return bool({
        "=": left == right, "!=": left != right, ">": left > right, ">=": left >= right, "<": left < right,
        "<=": left <= right,
    }.get(op, False))


def formatted_read_grouping_sets(
    env: Env, model: str, domain: Sequence[Any] = (), grouping_sets: Sequence[Sequence[str]] = (),
    aggregates: Sequence[str] = (), order: str | None = None,
) -> list[list[dict[str, Any]]]:
    """19: one ``formatted_read_group`` answer per grouping set (recorded: g5.formatted_read_grouping_sets)."""
    return [formatted_read_group(env, model, domain, list(gs), aggregates, order=order) for gs in grouping_sets]
