"""What the pydantic transformer does beyond the conformance suite: validators run in the task that
receives a value, invalid payloads fail that task clearly, nested models, the wire form, the CLI
and the hook's choices."""

from __future__ import annotations

import datetime as dt
import importlib.metadata as md
import json
import os
import subprocess
import sys
import textwrap
import typing
from pathlib import Path
from typing import Annotated, Any

import pydantic
import pytest
from flyte_types_pydantic import plugin
from flyte_types_pydantic.transformer import PYDANTIC_MODEL
from pydantic_examples import (
    SEEN_EMAILS,
    Address,
    Aliased,
    Animal,
    Contact,
    DateRange,
    Dog,
    Item,
    Numbers,
    Page,
    Person,
    Team,
)

import flyte
from flyte_core.extend import (
    ConversionContext,
    Converter,
    DataStore,
    PickleFallbackWarning,
    RuntimeUserError,
    Session,
    TypeEngine,
    hookimpl,
)

BORN = dt.datetime(1990, 5, 17, 8, 30, tzinfo=dt.UTC)
ADA = Person(name="Ada", born=BORN, address=Address(street="1 Main", city="London"), kind="staff")
BOB = Person(name="Bob", born=BORN, tags=["ops"])
BAD_RANGE = {"start": dt.date(2026, 2, 1), "end": dt.date(2026, 1, 1)}

env = flyte.TaskEnvironment(name="pyd")


@env.task
def make_team() -> Team:
    """Produces nested models."""
    return Team(name="core", members=[ADA, BOB], by_role={"lead": ADA}, lead=ADA)


@env.task
def contacts(team: Team, extra: dict[str, list[Person]]) -> list[Contact]:
    """Consumes nested models; the emails it builds are raw, as if typed by a user."""
    people = team.members + [p for ps in extra.values() for p in ps]
    # model_construct skips validation, so only the receiving side can normalise these.
    return [Contact.model_construct(email=f"  {p.name}@Example.ORG ") for p in people]


@env.task
def emails(cs: list[Contact]) -> list[str]:
    """Reads the contacts as validated on the way in."""
    return [c.email for c in cs]


@env.task
def directory() -> list[str]:
    """The pipeline: a team goes to one task, its contacts to another."""
    return emails(contacts(make_team(), {"guests": [BOB]}))


@env.task
def days(r: DateRange) -> int:
    """Consumes a range that must be ordered."""
    return (r.end - r.start).days


@env.task
def make_bad_range() -> DateRange:
    """Produces a range its own model_validator would refuse (built without validation)."""
    return DateRange.model_construct(**BAD_RANGE)


@env.task
def bad_pipeline() -> int:
    """Hands the invalid range from one task to another."""
    return days(make_bad_range())


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLYTE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("FLYTE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def session(flyte_session: Session) -> Session:
    """The isolated session of flyte-core's pytest plugin (stores in a temporary folder)."""
    return flyte_session


@pytest.fixture
def ctx(tmp_path: Path) -> ConversionContext:
    return ConversionContext(store=DataStore(str(tmp_path / "s")), prefix=str(tmp_path / "s" / "x"))


def _round_trip(engine: TypeEngine, ctx: ConversionContext, hint: Any, value: Any) -> Any:
    return engine.to_python(json.loads(json.dumps(engine.to_literal(value, hint, ctx))), hint, ctx)


# --- validators run where a value is received ----------------------------------------------------


def test_pipeline_passes_nested_models_and_normalises_on_the_way_in(session: Session) -> None:
    SEEN_EMAILS.clear()
    run = session.run(directory)
    assert run.outputs()[0] == ["ada@example.org", "bob@example.org", "bob@example.org"]
    # `contacts` sent raw addresses: the validator normalised them when `directory` received that
    # output, and ran again (on clean values) when `emails` received them as its input.
    raw = ["  Ada@Example.ORG ", "  Bob@Example.ORG ", "  Bob@Example.ORG "]
    assert [*raw, "ada@example.org", "bob@example.org", "bob@example.org"] == SEEN_EMAILS


def test_field_validator_runs_when_a_payload_is_decoded(session: Session, ctx: ConversionContext) -> None:
    literal = {"t": "pydantic", "v": 1, "d": {"email": " Grace@Navy.MIL"}}
    assert session.engine.to_python(literal, Contact, ctx) == Contact(email="grace@navy.mil")


def test_model_validator_fails_the_receiving_task(session: Session) -> None:
    with pytest.raises(RuntimeUserError) as ei:
        session.run(days, r=DateRange.model_construct(**BAD_RANGE))
    msg = str(ei.value)
    assert "Task 'pyd.days', input 'r': the value does not validate as DateRange" in msg
    assert "1 validation error for DateRange" in msg
    assert "end 2026-01-01 is before start 2026-02-01" in msg


def test_model_validator_fails_a_task_handed_an_invalid_child_output(session: Session) -> None:
    with pytest.raises(RuntimeUserError) as ei:
        session.run(bad_pipeline)
    msg = str(ei.value)
    assert "the value does not validate as DateRange" in msg
    assert "end 2026-01-01 is before start 2026-02-01" in msg


def test_model_validator_refuses_a_bad_payload(session: Session, ctx: ConversionContext) -> None:
    literal = {"t": "pydantic", "v": 1, "d": {"start": "2026-02-01", "end": "2026-01-01"}}
    with pytest.raises(ValueError, match=r"does not validate as DateRange: 1 validation error for DateRange"):
        session.engine.to_python(literal, DateRange, ctx)
    literal["d"] = {"start": "2026-02-01"}
    with pytest.raises(ValueError, match=r"(?s)DateRange.*end\n  Field required"):
        session.engine.to_python(literal, DateRange, ctx)


# --- nested models and the wire form --------------------------------------------------------------


def test_models_nested_in_core_containers(session: Session, ctx: ConversionContext) -> None:
    team = Team(name="t", members=[ADA], by_role={"x": BOB})
    cases: list[tuple[Any, Any]] = [
        (list[Team], [team, Team(name="u", members=[])]),
        (dict[str, list[Person]], {"a": [ADA, BOB], "b": []}),
        (dict[int, Page[Item]], {1: Page[Item](items=[Item(sku="s")])}),
        (tuple[Person, Address | None], (ADA, None)),
        (Person | Address, Address(street="s", city="c")),
        (Annotated[Person, "meta"], BOB),
    ]
    for hint, value in cases:
        assert _round_trip(session.engine, ctx, hint, value) == value, hint


def test_payload_is_pydantic_json_keyed_by_field_names(session: Session, ctx: ConversionContext) -> None:
    assert session.engine.to_literal(ADA, Person, ctx) == {"t": "pydantic", "v": 1, "d": ADA.model_dump(mode="json")}
    literal = session.engine.to_literal(Aliased(userName="a", display="A", size=2), Aliased, ctx)
    assert literal["d"] == {"user_name": "a", "display": "A", "size": 2}  # no aliases, no computed field
    assert session.engine.to_literal(Numbers([1, 2]), Numbers, ctx)["d"] == [1, 2]


def test_subclass_instance_travels_as_the_declared_class(session: Session, ctx: ConversionContext) -> None:
    back = _round_trip(session.engine, ctx, Animal, Dog(name="rex", barks=False))
    assert type(back) is Animal and back == Animal(name="rex")
    # In a union, the member whose class is exactly the value's is chosen.
    assert type(_round_trip(session.engine, ctx, Animal | Dog, Dog(name="rex"))) is Dog


def test_fields_pydantic_cannot_serialise_are_refused_naming_the_model(session: Session,
                                                                       ctx: ConversionContext) -> None:
    class Opaque:
        pass

    class Holder(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(arbitrary_types_allowed=True)
        thing: Opaque

    with pytest.raises(ValueError, match=r"pydantic cannot write this Holder as JSON: Unable to serialize unknown"):
        session.engine.to_literal(Holder(thing=Opaque()), Holder, ctx)


# --- the command line ---------------------------------------------------------------------------


def test_from_cli_parses_json_by_field_name_or_alias(session: Session) -> None:
    conv = session.engine.converter(Aliased)
    assert conv.cli_form == "JSON object" and conv.from_cli is not None
    assert conv.from_cli('{"userName": "a", "display": "A"}') == Aliased(userName="a", display="A")
    assert conv.from_cli('{"user_name": "a", "display": "A"}') == Aliased(userName="a", display="A")
    with pytest.raises(ValueError, match=r"does not validate as Aliased: 1 validation error for Aliased\ndisplay"):
        conv.from_cli('{"userName": "a"}')
    with pytest.raises(ValueError, match="Invalid JSON"):
        conv.from_cli("{userName: a}")
    assert session.engine.converter(Numbers).cli_form == "JSON value"


CLI_TASKS = '''
import datetime as dt

import flyte
from pydantic import BaseModel, model_validator


class Range(BaseModel):
    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def ordered(self) -> "Range":
        if self.end < self.start:
            raise ValueError("end is before start")
        return self


env = flyte.TaskEnvironment(name="cli")


@env.task
def span(r: Range) -> int:
    return (r.end - r.start).days
'''


def test_flyte_run_takes_a_model_as_json(tmp_path: Path) -> None:
    (tmp_path / "wf.py").write_text(CLI_TASKS)

    def flyte_run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "flyte_core.cli", "run", "wf.py", "span", *args],
                              capture_output=True, text=True, cwd=tmp_path, timeout=60, env=dict(os.environ))

    ok = flyte_run("--r", '{"start": "2026-01-01", "end": "2026-01-31"}')
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "30"
    bad = flyte_run("--r", '{"start": "2026-01-31", "end": "2026-01-01"}')
    assert bad.returncode == 2
    assert "does not validate as Range" in bad.stderr and "end is before start" in bad.stderr


# --- the hook -------------------------------------------------------------------------------------


def test_hook_answers_only_for_model_classes_themselves() -> None:
    hook = plugin.flyte_type_transformer
    assert hook(Person, Person) is PYDANTIC_MODEL
    assert hook(Person, Annotated[Person, "x"]) is PYDANTIC_MODEL
    assert hook(Page[Item], Page[Item]) is PYDANTIC_MODEL
    assert hook(Page, Page[Item]) is PYDANTIC_MODEL  # the generic origin, asked for its parametrisation
    assert hook(pydantic.BaseModel, pydantic.BaseModel) is None  # BaseModel itself: not a concrete model
    assert hook(Animal, Dog) is None  # a base class reached through another hint's MRO
    assert hook(int, int) is None and hook(list, list[Person]) is None


def test_bare_basemodel_is_left_to_the_core(session: Session) -> None:
    assert session.engine.converter(Person).transformer == "pydantic"
    with pytest.warns(PickleFallbackWarning):
        assert session.engine.converter(pydantic.BaseModel).transformer != "pydantic"


class _AddressOwner:
    """A plugin with its own transformer for one model class."""

    name = "test.address"
    version = 1

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        return Converter(self.name, self.version, lambda v, _c: [v.street, v.city],
                         lambda p, _c: Address(street=p[0], city=p[1]), lambda v: isinstance(v, Address))

    @hookimpl
    def flyte_type_transformer(self, python_type: Any, hint: Any) -> Any:
        return self if python_type is Address else None


def test_a_plugin_owning_one_model_class_wins(tmp_path: Path) -> None:
    s = Session(data_url=str(tmp_path / "d"), run_store=str(tmp_path / "r.db"), plugins=(_AddressOwner(),))
    try:
        assert s.engine.converter(Address).transformer == "test.address"
        assert s.engine.converter(Person).transformer == "pydantic"
    finally:
        s.close()


def test_plugin_module_is_registered_and_imports_no_pydantic() -> None:
    eps = {ep.name: ep.value for ep in md.entry_points(group="flyte")}
    assert eps.get("pydantic") == "flyte_types_pydantic.plugin"
    code = textwrap.dedent("""
        import sys
        from flyte_types_pydantic import plugin
        assert plugin.flyte_type_transformer(int, int) is None
        assert plugin.flyte_type_transformer(dict, dict) is None
        assert "pydantic" not in sys.modules, "the hook module imported pydantic"
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


# --- plain dicts for models, models inside TypedDicts (Flyte 2 programs do both) ----------------------


def test_a_dict_given_for_a_model_is_validated_into_it(session: Session, ctx: ConversionContext) -> None:
    engine = session.engine
    back = _round_trip(engine, ctx, Person, {"name": "Ann", "born": "1990-05-17T08:30:00Z"})
    assert back == Person(name="Ann", born=BORN)  # left-out fields take the model's defaults
    # Python values and nested model instances are fine in the dict; so are nested dicts, and aliases.
    team = {"name": "t", "members": [ADA, {"name": "Bob", "born": BORN, "tags": ["ops"]}]}
    assert _round_trip(engine, ctx, Team, team) == Team(name="t", members=[ADA, BOB])
    assert _round_trip(engine, ctx, Person | None, {"name": "Ann", "born": BORN}) == Person(name="Ann", born=BORN)
    with pytest.raises(TypeError, match=r"(?s)the dict given for Person does not validate: 1 validation error.*born"):
        engine.to_literal({"name": "Ann"}, Person, ctx)


def test_a_dict_input_for_a_model_in_a_run(session: Session) -> None:
    assert session.run(days, r={"start": "2026-01-01", "end": dt.date(2026, 1, 31)}).outputs()[0] == 30
    with pytest.raises(Exception, match=r"(?s)Task 'pyd.days', input 'r'.*end 2026-01-01 is before start 2026-02-01"):
        session.run(days, r=BAD_RANGE)


class Roster(typing.TypedDict):
    team: Team
    contacts: list[Contact]
    note: typing.NotRequired[str]


@env.task
def roster() -> Roster:
    return {"team": Team(name="core", members=[BOB]), "contacts": [Contact.model_construct(email=" X@Y.Z ")]}


@env.task
def roster_summary(r: Roster) -> str:
    return f"{type(r['team']).__name__} {r['team'].members[0].name} {r['contacts'][0].email} {'note' in r}"


@env.task
def roster_pipeline() -> str:
    return roster_summary(roster())


@pytest.mark.slow
def test_typeddict_holding_models_crosses_worker_processes(tmp_path: Path) -> None:
    s = Session(backend="local-process", data_url=str(tmp_path / "d"), run_store=str(tmp_path / "r.db"),
                root_dir=Path(__file__).parent)
    try:
        # The validator normalised the e-mail when the TypedDict's model value was received.
        assert s.run(roster_pipeline).outputs()[0] == "Team Bob x@y.z False"
    finally:
        s.close()
