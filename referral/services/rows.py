"""Rows written once, and how many rows an UPDATE or DELETE run through the session changed.

``insert_once`` is the portable ``INSERT … ON CONFLICT DO NOTHING`` behind every write that
a unique key makes idempotent without a savepoint (enrolments, tags, ledger lines, webhook
deliveries). The conditional updates that claim a row (a coupon, a prize, a delivery, an
outbox message) and the sweeps that report how much they did read the count from the result.

The inserts are compiled once per table, columns, key and dialect and run on the driver's
cursor of the session's connection, in its transaction: SQLAlchemy's execution of a compiled
statement (a context, its parameters, a result) costs several times what the driver needs
to run it, and an insert is most of a sign-up's statements. What SQLAlchemy would do around
the driver call is done here too, from the same compiled statement: the pending changes of
the session are flushed first, the columns' Python defaults are filled in, each value goes
through its type's bind processor, the engine's ``before_cursor_execute`` listeners see the
statement (SQLite's write lock, the statement counters of tests and benchmarks), and a
driver error is raised as SQLAlchemy's exception of the same kind (``IntegrityError``,
``OperationalError``). A row that the caller needs as an object becomes one of the session
exactly as a flushed ``session.add`` would leave it: the values it was written with, its
new id, persistent and clean.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, TypeVar, cast

from sqlalchemy import (
    ColumnDefault,
    CursorResult,
    Result,
    bindparam,
    exc,
    inspect,
    literal_column,
    select,
    update,
)
from sqlalchemy import column as column_of
from sqlalchemy import values as values_list
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import instance_state, set_committed_value
from sqlalchemy.orm.instrumentation import manager_of_class

from referral.extensions import db


def affected_rows(result: Result[*tuple[Any, ...]]) -> int:
    """The rows that the UPDATE or DELETE (without RETURNING) behind ``result`` matched.

    ``Session.execute`` returns a ``CursorResult`` for such a statement, which counts them,
    but is annotated as returning a plain ``Result``, since a session cannot promise a cursor
    for every statement; the narrowing is done here, once.
    """
    return cast("CursorResult[*tuple[Any, ...]]", result).rowcount


M = TypeVar("M")


@dataclass(frozen=True)
class _Plan:
    """An insert compiled for one dialect and set of columns, ready for the driver."""

    sql: str
    names: tuple[str, ...]  # the bound values, in the order of the statement's parameters
    processors: tuple[Callable[[Any], Any] | None, ...]
    defaults: tuple[tuple[str, Any], ...]  # (column, ColumnDefault) filled in when absent
    positional: bool
    returns_id: bool


_plans: dict[tuple[Any, ...], _Plan] = {}


def _defaults(table: Any, given: frozenset[str]) -> tuple[tuple[str, Any], ...]:
    """The Python-side defaults of the columns that ``given`` leaves out (an id or a server
    default is the database's to fill)."""
    found = []
    for column in table.c:
        default = column.default
        if column.key in given or default is None:
            continue
        if not isinstance(default, ColumnDefault) or default.is_clause_element:
            raise NotImplementedError(f"{table.name}.{column.key}: a default SQL expression")
        found.append((column.key, default))
    return tuple(found)


def _plan(
    model: type[Any],
    keys: frozenset[str],
    unique: Sequence[str] | None,
    returns_id: bool,
    adding: str | None = None,
) -> _Plan:
    """The insert of ``keys`` (and the defaulted columns) into ``model``'s table, skipping a
    duplicate of ``unique`` (None: a plain insert) or, with ``adding``, adding its value of
    that column to the existing row's; returning the new id or nothing."""
    dialect = db.session.get_bind().dialect
    key = (model, keys, tuple(unique or ()), unique is None, dialect.name, returns_id, adding)
    plan = _plans.get(key)
    if plan is not None:
        return plan
    table = model.__table__
    defaults = _defaults(table, keys)
    insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
    statement: Any = insert(table)
    if adding is not None:
        statement = statement.on_conflict_do_update(
            index_elements=list(unique or ()),
            set_={adding: table.c[adding] + statement.excluded[adding]},
        )
    elif unique is not None:
        statement = statement.on_conflict_do_nothing(index_elements=list(unique))
    if returns_id:
        statement = statement.returning(table.c.id)
    columns = sorted(keys | {name for name, _ in defaults})
    plan = _plans[key] = _compiled(statement, dialect, columns, defaults, returns_id)
    return plan


def _compiled(
    statement: Any,
    dialect: Any,
    columns: list[str] | None,
    defaults: tuple[tuple[str, Any], ...],
    returns_id: bool,
) -> _Plan:
    """``statement`` compiled for ``dialect`` (an insert of ``columns``), with the order of
    its parameters and their types' bind processors."""
    compiled = statement.compile(dialect=dialect, column_keys=columns)
    names = (
        tuple(compiled.positiontup or ())
        if dialect.positional
        else tuple(dict.fromkeys(compiled.bind_names.values()))
    )
    processors = cast("dict[str, Callable[[Any], Any]]", compiled._bind_processors)
    return _Plan(
        sql=compiled.string,
        names=names,
        processors=tuple(processors.get(name) for name in names),
        defaults=defaults,
        positional=dialect.positional,
        returns_id=returns_id,
    )


def _update_plan(model: type[Any], keys: frozenset[str]) -> _Plan:
    """``UPDATE`` of ``keys`` of one row of ``model``'s table, found by its ``id``."""
    dialect = db.session.get_bind().dialect
    key = (model, keys, "update", dialect.name)
    plan = _plans.get(key)
    if plan is None:
        table = model.__table__
        statement = (
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values({name: bindparam(name, type_=table.c[name].type) for name in sorted(keys)})
        )
        plan = _plans[key] = _compiled(statement, dialect, None, (), returns_id=False)
    return plan


def _parameters(plan: _Plan, values: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """``values`` with the defaults filled in, and the driver's parameters made of them."""
    if plan.defaults:
        values = dict(values)
        for name, default in plan.defaults:
            values[name] = default.arg(None) if default.is_callable else default.arg
    bound = [
        value if process is None else process(value)
        for value, process in zip(
            (values[name] for name in plan.names), plan.processors, strict=True
        )
    ]
    if plan.positional:
        return values, tuple(bound)
    return values, dict(zip(plan.names, bound, strict=True))


def _run(plan: _Plan, parameters: Any, many: bool = False) -> int | None:
    """Run ``plan`` on the driver cursor of the session's connection (its transaction); the
    returned id, if the plan returns one and a row was inserted."""
    rows = _execute(plan.sql, parameters, many, fetch=plan.returns_id)
    return int(rows[0][0]) if rows else None


def _execute(sql: str, parameters: Any, many: bool, fetch: bool, context: Any = None) -> list[Any]:
    """Run ``sql`` on the driver cursor of the session's connection (its transaction), as
    the session would (see the module docstring); the rows it returned when ``fetch``.
    ``context`` stands for SQLAlchemy's execution context to the listeners: what they read
    of it is its ``compiled`` statement (SQLite takes the write lock before a ``SELECT …
    FOR UPDATE``, ``extensions._locks``)."""
    session = db.session()
    if session.autoflush:
        session.flush()  # as an execution through the session would
    connection = session.connection()
    cursor = connection.connection.cursor()
    try:
        for listener in connection.dispatch.before_cursor_execute:
            sql, parameters = listener(connection, cursor, sql, parameters, context, many)
        if many:
            cursor.executemany(sql, parameters)
            return []
        cursor.execute(sql, parameters)
        return list(cursor.fetchall()) if fetch else []
    except connection.dialect.loaded_dbapi.Error as error:
        raise exc.DBAPIError.instance(
            sql, parameters, error, connection.dialect.loaded_dbapi.Error
        ) from error
    finally:
        cursor.close()


@dataclass(frozen=True)
class _Select:
    """A select of every column of a table by one column's values, compiled for a dialect."""

    plan: _Plan
    context: Any  # what the listeners read of an execution context: the compiled statement
    attributes: tuple[str, ...]  # the model's attribute of each selected column, in order
    results: tuple[Callable[[Any], Any] | None, ...]  # each column's result processor


def rows_where(
    model: type[M],
    column: str,
    values: Sequence[Any],
    *,
    for_update: bool = False,
    refresh: bool = False,
) -> list[M]:
    """The rows of ``model`` whose ``column`` is one of ``values``, as objects of the
    session, as ``select(model).where(column.in_(values))`` gives them (``for_update``:
    locked, ``refresh``: as with ``populate_existing``, an object the session holds takes
    the stored values), run on the driver like the inserts here: compiled once per model,
    column, number of values and dialect, each value through its bind processor and each
    column through its result processor. For tables of plain columns (no column that the
    mapper renames or leaves out)."""
    if not values:
        return []
    dialect = db.session.get_bind().dialect
    key = (model, column, len(values), for_update, dialect.name, "select")
    found = _selects.get(key)
    if found is None:
        found = _selects[key] = _select(model, column, len(values), for_update, dialect)
    plan = found.plan
    bound = {f"v{n}": value for n, value in enumerate(values)}
    rows = _execute(plan.sql, _parameters(plan, bound)[1], False, True, found.context)
    loaded = []
    for row in rows:
        stored = {
            name: value if process is None else process(value)
            for name, value, process in zip(found.attributes, row, found.results, strict=True)
        }
        loaded.append(as_loaded(model, stored, refresh=refresh))
    return loaded


_selects: dict[tuple[Any, ...], _Select] = {}


def first_row(statement: Any, values: dict[str, Any]) -> tuple[Any, ...] | None:
    """The first row of ``statement``, a select built once (a module's constant) whose
    parameters are named ``bindparam``s, with ``values`` bound to them (a parameter the
    statement gives a value itself, a ``literal``, keeps it); run on the driver like the
    selects here: compiled once per statement and dialect, each value through its bind
    processor and each column through its result processor."""
    dialect = db.session.get_bind().dialect
    key = (id(statement), dialect.name)
    found = _firsts.get(key)
    if found is None or found.statement is not statement:
        compiled = statement.compile(dialect=dialect)
        found = _firsts[key] = _First(
            statement=statement,
            plan=_compiled(statement, dialect, None, (), returns_id=False),
            fixed={k: v for k, v in compiled.params.items() if v is not None},
            results=tuple(
                column[3]._cached_result_processor(dialect, None)
                for column in compiled._result_columns
            ),
            context=SimpleNamespace(compiled=compiled),
        )
    bound = {**found.fixed, **values}
    rows = _execute(found.plan.sql, _parameters(found.plan, bound)[1], False, True, found.context)
    if not rows:
        return None
    return tuple(
        value if process is None else process(value)
        for value, process in zip(rows[0], found.results, strict=True)
    )


@dataclass(frozen=True)
class _First:
    """A select built once, compiled for a dialect, for :func:`first_row`."""

    statement: Any  # kept, so that its id names it for as long as the plan is kept
    plan: _Plan
    fixed: dict[str, Any]  # the values the statement gives its own parameters
    results: tuple[Callable[[Any], Any] | None, ...]
    context: Any


_firsts: dict[tuple[Any, ...], _First] = {}


def _select(model: type[Any], column: str, count: int, for_update: bool, dialect: Any) -> _Select:
    table = model.__table__
    keys = [bindparam(f"v{n}", type_=table.c[column].type) for n in range(count)]
    where = table.c[column] == keys[0] if count == 1 else table.c[column].in_(keys)
    statement = select(*table.c).where(where)
    if for_update:
        statement = statement.with_for_update()
    plan = _compiled(statement, dialect, None, (), returns_id=False)
    return _Select(
        plan=plan,
        context=SimpleNamespace(compiled=statement.compile(dialect=dialect)),
        attributes=table_attributes(model),
        results=tuple(c.type._cached_result_processor(dialect, None) for c in table.c),
    )


def table_attributes(model: type[Any]) -> tuple[str, ...]:
    """The attribute of each column of ``model``'s table, in the table's order (the order of
    ``select(*table.c)``), to make a row of such a select an object (:func:`as_loaded`)."""
    found = _attributes.get(model)
    if found is None:
        mapper = inspect(model)
        found = tuple(mapper.get_property_by_column(c).key for c in model.__table__.c)
        _attributes[model] = found
    return found


_attributes: dict[type[Any], tuple[str, ...]] = {}


def _as_stored(model: type[M], values: dict[str, Any], new_id: int) -> M:
    """The row just inserted from ``values`` as an object of the session: persistent and
    clean, as ``session.add`` and a flush would leave it."""
    session = db.session()
    identity = session.identity_key(model, new_id)
    if identity in session.identity_map:  # a stale object for a reused id: load afresh
        stored = session.get(model, new_id, populate_existing=True)
        assert stored is not None
        return stored
    return _attached(model, {**values, "id": new_id})


def as_loaded(model: type[M], values: dict[str, Any], refresh: bool = False) -> M:
    """A row of ``model`` whose columns hold ``values`` (its ``id`` among them) as an object
    of the session, as a query would have loaded it: the session's own object of that row
    if it has one (what it no longer holds, expired by a commit, filled in from ``values``;
    what it holds, its own changes included, kept; with ``refresh``, everything replaced),
    else a new one, persistent and clean.
    For rows read earlier and kept (``services.memo.shared``); the caller vouches that
    ``values`` are as stored."""
    session = db.session()
    found = session.identity_map.get(session.identity_key(model, values["id"]))
    if found is None:
        return _attached(model, values)
    state = instance_state(found)
    if refresh:  # as a load with populate_existing: the stored values, no change pending
        state.dict.update(values)
        state._commit_all(state.dict, session.identity_map)
        return cast("M", found)
    missing = [name for name in values if name not in state.dict]
    if missing:  # an object expired by a commit: filled in as a refresh would
        for name in missing:
            state.dict[name] = values[name]
        state._commit(state.dict, missing)
    return cast("M", found)


def committed_columns(row: Any) -> dict[str, Any] | None:
    """The values of every column of ``row``, a persistent object of the session with no
    change pending (just flushed, say): what its row holds in this transaction, for
    :func:`as_loaded` to put back once a commit has expired it. None when some column is
    not loaded or the object is not such an object."""
    state = instance_state(row)
    if not state.persistent or state.modified:
        return None
    names = _column_names(type(row))
    values = state.dict
    if any(name not in values or name in state.expired_attributes for name in names):
        return None
    return {name: values[name] for name in names}


_names: dict[type[Any], tuple[str, ...]] = {}


def _column_names(model: type[Any]) -> tuple[str, ...]:
    names = _names.get(model)
    if names is None:
        names = _names[model] = tuple(a.key for a in inspect(model).column_attrs)
    return names


def _attached(model: type[M], values: dict[str, Any]) -> M:
    """A new object of ``model`` holding ``values`` as its loaded columns, added to the
    session as persistent and clean: what ``make_transient_to_detached`` and
    ``Session.add`` make of it, done here in their steps for a row that its values alone
    make (no pending change, no related object to cascade to). The values go straight into
    the object's state, as a query's loading puts them there, not through the instrumented
    constructor; what they leave out is expired, so that it loads when read. The session's
    attach events fire as with ``add``."""
    row: M = manager_of_class(model).new_instance()
    state = instance_state(row)
    state.dict.update(values)
    identity, attributes = _shape_of(model)
    state.key = (identity, (values["id"],), None)
    state._expire_attributes(state.dict, attributes.difference(values))
    db.session()._update_impl(state)
    return row


_shapes: dict[type[Any], tuple[type[Any], frozenset[str]]] = {}


def _shape_of(model: type[Any]) -> tuple[type[Any], frozenset[str]]:
    """The class that names ``model``'s rows in an identity key, and its attributes."""
    found = _shapes.get(model)
    if found is None:
        mapper = inspect(model)
        found = _shapes[model] = (mapper._identity_class, frozenset(manager_of_class(model)))
    return found


def update_row(row: Any, values: dict[str, Any]) -> None:
    """Write ``values`` to ``row``'s columns now, and set them on the object as stored (not
    pending): what a flush of those changes would do, without the unit of work. For plain
    columns of a table that no mapper event guards (a participation's status and time of
    confirmation, say), never a key or a fixed column."""
    model = type(row)
    plan = _update_plan(model, frozenset(values))
    _run(plan, _parameters(plan, {**values, "row_id": row.id})[1])
    for name, value in values.items():
        set_committed_value(row, name, value)


def insert_once(model: type[Any], values: dict[str, Any], unique: Sequence[str]) -> int | None:
    """Insert a row unless one with the same ``unique`` columns exists (also one another
    transaction is inserting: it waits for it); the new id, or None. Portable ``INSERT …
    ON CONFLICT DO NOTHING`` for SQLite and PostgreSQL, in the caller's transaction."""
    plan = _plan(model, frozenset(values), unique, returns_id=True)
    return _run(plan, _parameters(plan, values)[1])


def insert_row_once(model: type[M], values: dict[str, Any], unique: Sequence[str]) -> M | None:
    """As :func:`insert_once`, and the new row as an object of the session."""
    plan = _plan(model, frozenset(values), unique, returns_id=True)
    stored, parameters = _parameters(plan, values)
    new_id = _run(plan, parameters)
    return None if new_id is None else _as_stored(model, stored, new_id)


def insert_rows_once(
    model: type[M], rows: Sequence[dict[str, Any]], unique: Sequence[str]
) -> list[M | None]:
    """As :func:`insert_row_once` for several rows (each with the same columns) in one
    statement: a multi-row ``INSERT … ON CONFLICT DO NOTHING`` that returns each new row's
    id with its ``unique`` columns, by which it is matched to its row (the order of
    ``RETURNING`` is not promised). For each row, in the order given, its object, or None
    where a row with the same ``unique`` columns existed (also one a concurrent transaction
    inserted)."""
    if len(rows) < 2:
        return [insert_row_once(model, row, unique) for row in rows]
    single = _plan(model, frozenset(rows[0]), unique, returns_id=True)
    plan = _rows_plan(model, single, tuple(unique), len(rows))
    stored = [_parameters(single, row)[0] for row in rows]
    merged = {f"{name}_{n}": row[name] for n, row in enumerate(stored) for name in plan.columns}
    _, parameters = _parameters(plan.plan, merged)
    found = {}
    for new_id, *key in _execute(plan.plan.sql, parameters, False, True):
        values = zip(key, plan.results, strict=True)
        found[tuple(v if process is None else process(v) for v, process in values)] = int(new_id)
    made: list[M | None] = []
    for row in stored:
        # Taken once: a second row of the same key in the batch was skipped as a duplicate.
        new_id = found.pop(tuple(row[name] for name in unique), None)
        made.append(None if new_id is None else _as_stored(model, row, new_id))
    return made


@dataclass(frozen=True)
class _RowsPlan:
    """A multi-row insert of :func:`insert_rows_once`: its plan, and the columns of each row."""

    plan: _Plan
    columns: tuple[str, ...]
    results: tuple[Callable[[Any], Any] | None, ...]  # of the unique columns it returns


_rows_plans: dict[tuple[Any, ...], _RowsPlan] = {}


def _rows_plan(model: type[Any], single: _Plan, unique: tuple[str, ...], count: int) -> _RowsPlan:
    dialect = db.session.get_bind().dialect
    columns = tuple(sorted({*single.names}))
    key = (model, columns, unique, count, dialect.name)
    found = _rows_plans.get(key)
    if found is None:
        table = model.__table__
        insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
        statement = (
            insert(table)
            .values(
                [
                    {name: bindparam(f"{name}_{n}", type_=table.c[name].type) for name in columns}
                    for n in range(count)
                ]
            )
            .on_conflict_do_nothing(index_elements=list(unique))
            .returning(table.c.id, *(table.c[name] for name in unique))
        )
        plan = _compiled(statement, dialect, None, (), returns_id=True)
        results = tuple(
            table.c[name].type._cached_result_processor(dialect, None) for name in unique
        )
        found = _rows_plans[key] = _RowsPlan(plan=plan, columns=columns, results=results)
    return found


def insert_rows(model: type[M], rows: Sequence[dict[str, Any]]) -> list[M]:
    """As :func:`insert_row` for several rows (each with the same columns) in one statement;
    their objects in the order given.

    A multi-row insert returns the new ids in no promised order, so each id is matched to
    its row as SQLAlchemy's own ``sort_by_parameter_order`` does for an autoincrementing
    key: the rows are inserted in the order given (on PostgreSQL as ``INSERT … SELECT …
    FROM (VALUES …) ORDER BY`` their position, on SQLite as one ``VALUES`` list), which
    draws their ids in that order, so the ids sorted ascending are the rows' in turn."""
    if len(rows) < 2:
        return [insert_row(model, row) for row in rows]
    single = _plan(model, frozenset(rows[0]), None, returns_id=True)
    plan = _ordered_plan(model, tuple(sorted(single.names)), len(rows))
    stored = [_parameters(single, row)[0] for row in rows]
    merged = {f"{name}_{n}": row[name] for n, row in enumerate(stored) for name in single.names}
    _, parameters = _parameters(plan, merged)
    ids = sorted(int(found[0]) for found in _execute(plan.sql, parameters, False, True))
    assert len(ids) == len(stored), "a plain insert writes every row"
    return [_as_stored(model, row, new_id) for row, new_id in zip(stored, ids, strict=True)]


_ordered_plans: dict[tuple[Any, ...], _Plan] = {}


def _ordered_plan(model: type[Any], columns: tuple[str, ...], count: int) -> _Plan:
    """The insert of ``count`` rows of ``columns`` for :func:`insert_rows`, ids returned."""
    dialect = db.session.get_bind().dialect
    key = (model, columns, count, dialect.name)
    found = _ordered_plans.get(key)
    if found is None:
        table = model.__table__
        bound = [
            [bindparam(f"{name}_{n}", type_=table.c[name].type) for name in columns]
            for n in range(count)
        ]
        statement: Any
        if dialect.name == "postgresql":
            given = values_list(
                *(column_of(f"p{i}", table.c[name].type) for i, name in enumerate(columns)),
                column_of("position"),
                name="given",
            ).data([(*row, literal_column(str(n))) for n, row in enumerate(bound)])
            picked = select(*(given.c[f"p{i}"] for i in range(len(columns))))
            statement = table.insert().from_select(list(columns), picked.order_by(given.c.position))
        else:
            statement = table.insert().values(
                [dict(zip(columns, row, strict=True)) for row in bound]
            )
        statement = statement.returning(table.c.id)
        found = _ordered_plans[key] = _compiled(statement, dialect, None, (), returns_id=True)
    return found


def insert(model: type[Any], values: dict[str, Any]) -> None:
    """Insert a row now, for a table whose rows the caller does not read back (a consent, a
    token): no object is made for it."""
    plan = _plan(model, frozenset(values), None, returns_id=False)
    _run(plan, _parameters(plan, values)[1])


def insert_row(model: type[M], values: dict[str, Any]) -> M:
    """Insert a row now and return it as an object of the session (a duplicate of a unique
    key raises ``IntegrityError``, as a flush would)."""
    plan = _plan(model, frozenset(values), None, returns_id=True)
    stored, parameters = _parameters(plan, values)
    new_id = _run(plan, parameters)
    assert new_id is not None
    return _as_stored(model, stored, new_id)


def add_to_rows(
    model: type[Any], rows: list[dict[str, Any]], unique: Sequence[str], column: str
) -> None:
    """Insert ``rows`` (each with the same columns), or, where a row with the same
    ``unique`` columns exists, add the new row's ``column`` to it (``INSERT … ON CONFLICT
    DO UPDATE SET column = column + excluded.column``): one statement run for all rows,
    one after another, in the order given."""
    if rows:
        plan = _plan(model, frozenset(rows[0]), unique, returns_id=False, adding=column)
        _run(plan, [_parameters(plan, row)[1] for row in rows], many=True)


def insert_all_once(
    model: type[Any], rows: list[dict[str, Any]], unique: Sequence[str], chunk: int = 500
) -> int:
    """Insert ``rows``, skipping each whose ``unique`` columns exist (also rows a concurrent
    transaction is inserting: it waits for it); how many were inserted. Multi-row
    ``INSERT … ON CONFLICT DO NOTHING``, ``chunk`` rows a statement."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    inserted = 0
    for start in range(0, len(rows), chunk):
        statement = (
            insert(model)
            .values(rows[start : start + chunk])
            .on_conflict_do_nothing(index_elements=list(unique))
            .returning(model.id)
        )
        inserted += len(db.session.execute(statement).all())
    return inserted


def insert_many_once(model: type[Any], rows: list[dict[str, Any]], unique: Sequence[str]) -> None:
    """Insert ``rows`` (each with the same columns), skipping each whose ``unique`` columns
    exist (also rows a concurrent transaction is inserting: it waits for it). One statement
    built once and run with the rows as parameters (the driver batches them), which costs
    far less than compiling a multi-row ``VALUES`` for every call."""
    if rows:
        plan = _plan(model, frozenset(rows[0]), unique, returns_id=False)
        _run(plan, [_parameters(plan, row)[1] for row in rows], many=True)
