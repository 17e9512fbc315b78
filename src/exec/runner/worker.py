"""orchmig's python worker: runs pipeline step bodies for `orchmig run --runner python`.

One long-lived process. It reads one JSON request per line on stdin and answers one JSON line
on the protocol stream (the original stdout; the bodies' own output goes to stderr or is
captured). Airflow, Dagster and Prefect imports are shimmed, so no framework is installed.
"""

import asyncio
import contextlib
import datetime as _dt
import hashlib
import importlib.abc
import importlib.machinery
import inspect
import io
import json
import logging
import os
import pickle
import sys
import traceback
import types

_PROTO = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr

FRAMEWORKS = ("airflow", "dagster", "prefect")
STORE = {}
STORE_DIR = os.environ.get("ORCHMIG_STORE") or None
MODULES = {}
CURRENT = {"context": None}


class _Any:
    """A permissive stand-in for any framework object: decorators return the function."""

    def __init__(self, name="shim"):
        object.__setattr__(self, "_name", name)

    def __call__(self, *args, **kwargs):
        if len(args) == 1 and not kwargs and callable(args[0]) and not isinstance(args[0], _Any):
            return args[0]
        return _Any(self._name + "()")

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _Any(self._name + "." + name)

    def __setattr__(self, name, value):
        pass

    def __getitem__(self, key):
        return _Any(self._name + "[]")

    def __iter__(self):
        return iter(())

    def __len__(self):
        return 0

    def __bool__(self):
        return True

    def __contains__(self, item):
        return False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __mro_entries__(self, bases):
        return (object,)

    def __rshift__(self, other):
        return other

    def __rrshift__(self, other):
        return self

    __lshift__ = __rshift__
    __rlshift__ = __rrshift__

    def __or__(self, other):
        return self

    __ror__ = __and__ = __rand__ = __add__ = __radd__ = __or__

    def __repr__(self):
        return "<shim " + self._name + ">"


class Output:
    """Dagster's Output / DynamicOutput: the value travels on."""

    def __init__(self, value=None, output_name="result", *args, **kwargs):
        self.value = value
        self.output_name = output_name


class DynamicOutput(Output):
    """Dagster's DynamicOutput: one element of a mapped output."""

    def __init__(self, value=None, mapping_key=None, output_name="result", *args, **kwargs):
        super().__init__(value, output_name)


class MaterializeResult:
    """Dagster's MaterializeResult: no value."""

    def __init__(self, *args, **kwargs):
        self.value = kwargs.get("value")
        self.metadata = kwargs.get("metadata")


class AssetCheckResult:
    """Dagster's AssetCheckResult."""

    def __init__(self, passed=True, *args, **kwargs):
        self.passed = passed
        self.metadata = kwargs.get("metadata")


class PokeReturnValue:
    """Airflow's PokeReturnValue: done or not, and the value."""

    def __init__(self, is_done=False, xcom_value=None):
        self.is_done = is_done
        self.xcom_value = xcom_value


class Variable:
    """Airflow's Variable: returns the default."""

    @staticmethod
    def get(key, default_var=None, deserialize_json=False, default=None):
        return default_var if default_var is not None else default

    @staticmethod
    def set(*args, **kwargs):
        return None


class _Skip(Exception):
    pass


_EXCEPTIONS = {}


def _exception(name):
    if name not in _EXCEPTIONS:
        base = _Skip if "Skip" in name else Exception
        _EXCEPTIONS[name] = type(name, (base,), {})
    return _EXCEPTIONS[name]


def _logger(*args, **kwargs):
    return logging.getLogger("orchmig.body")


def _param(default=None, *args, **kwargs):
    return default


def _current_context():
    return CURRENT["context"]


class _Config:
    """Dagster's Config: fields with their class defaults, set by keyword."""

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)

    @classmethod
    def _fields(cls):
        names = {}
        for klass in reversed(cls.__mro__):
            names.update(getattr(klass, "__annotations__", {}))
        return list(names)

    def model_dump(self):
        return {k: getattr(self, k, None) for k in self._fields()}


def _configs(fn, kwargs, params):
    """A `config: SomeConfig` parameter gets the class with its defaults and the run's values."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return
    for name, p in sig.parameters.items():
        cls = p.annotation
        if isinstance(cls, type) and issubclass(cls, _Config):
            fields = cls._fields()
            kwargs[name] = cls(**{k: v for k, v in params.items() if k in fields})


class _FlowRun:
    """prefect.runtime.flow_run: the run's values from the step's context."""

    def __getattr__(self, name):
        ctx = CURRENT["context"] or {}
        values = {
            "scheduled_start_time": ctx.get("logical_date"),
            "start_time": ctx.get("logical_date"),
            "parameters": ctx.get("params", {}),
            "id": ctx.get("run_id"),
        }
        if name in values:
            return values[name]
        return _Any("flow_run." + name)


KNOWN = {
    "get_run_logger": _logger,
    "get_dagster_logger": _logger,
    "get_current_context": _current_context,
    "flow_run": _FlowRun(),
    "Config": _Config,
    "Output": Output,
    "DynamicOutput": DynamicOutput,
    "MaterializeResult": MaterializeResult,
    "AssetCheckResult": AssetCheckResult,
    "PokeReturnValue": PokeReturnValue,
    "Variable": Variable,
    "Param": _param,
    "Failure": _exception("Failure"),
    "RetryRequested": _exception("RetryRequested"),
}


class _ShimModule(types.ModuleType):
    def __init__(self, name):
        super().__init__(name)
        self.__path__ = []
        self.__file__ = "<orchmig shim>"

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        if name in KNOWN:
            return KNOWN[name]
        if name.endswith(("Exception", "Error")):
            return _exception(name)
        return _Any(self.__name__ + "." + name)


class _ShimLoader(importlib.abc.Loader):
    def create_module(self, spec):
        return _ShimModule(spec.name)

    def exec_module(self, module):
        pass


class _FrameworkFinder(importlib.abc.MetaPathFinder):
    """Airflow, Dagster and Prefect (and their provider packages) always come from the shim."""

    def find_spec(self, fullname, path, target=None):
        top = fullname.split(".")[0]
        if top in FRAMEWORKS or top.startswith(tuple(f + "_" for f in FRAMEWORKS)):
            return importlib.machinery.ModuleSpec(fullname, _ShimLoader(), is_package=True)
        return None


def _pendulum():
    m = types.ModuleType("pendulum")

    def datetime(year, month=1, day=1, hour=0, minute=0, second=0, tz=None, **kwargs):
        return _dt.datetime(year, month, day, hour, minute, second, tzinfo=_dt.timezone.utc)

    m.datetime = datetime
    m.duration = lambda **kw: _dt.timedelta(**kw)
    m.now = lambda tz=None: _dt.datetime(2024, 1, 1, tzinfo=_dt.timezone.utc)
    m.today = m.now
    m.timezone = lambda name: _dt.timezone.utc
    m.parse = lambda text, **kw: _dt.datetime.fromisoformat(str(text))
    return m


class _FallbackFinder(importlib.abc.MetaPathFinder):
    """pendulum only when it is not installed."""

    def find_spec(self, fullname, path, target=None):
        if fullname == "pendulum":
            return importlib.machinery.ModuleSpec(fullname, _FallbackLoader())
        return None


class _FallbackLoader(importlib.abc.Loader):
    def create_module(self, spec):
        return _pendulum()

    def exec_module(self, module):
        pass


sys.meta_path.insert(0, _FrameworkFinder())
sys.meta_path.append(_FallbackFinder())


class _TI:
    def __init__(self, ctx):
        self._ctx = ctx
        self.task_id = ctx.get("node")
        self.map_index = ctx.get("map_index")
        self.try_number = ctx.get("attempt")

    def xcom_push(self, *args, **kwargs):
        return None

    def xcom_pull(self, *args, **kwargs):
        return None


class _Window:
    def __init__(self, start):
        self.start = start
        self.end = start + _dt.timedelta(days=1)


class Context(dict):
    """An Airflow context dict that is also a Dagster context object."""

    def __getattr__(self, name):
        if name in self:
            return self[name]
        if name.startswith("__"):
            raise AttributeError(name)
        return _Any("context." + name)

    def add_output_metadata(self, *args, **kwargs):
        return None

    def asset_partition_key_for_output(self, *args, **kwargs):
        return self.get("partition_key")

    def log_event(self, *args, **kwargs):
        return None


def _logical_date(key):
    text = (key or "")[:10]
    try:
        return _dt.datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=_dt.timezone.utc)
    except ValueError:
        return _dt.datetime(2024, 1, 1, tzinfo=_dt.timezone.utc)


def make_context(c, params):
    key = c.get("partition_key")
    when = _logical_date(key or c.get("logical_date"))
    ctx = Context(
        ds=when.strftime("%Y-%m-%d"),
        ds_nodash=when.strftime("%Y%m%d"),
        ts=when.isoformat(),
        logical_date=when,
        execution_date=when,
        data_interval_start=when,
        data_interval_end=when + _dt.timedelta(days=1),
        params=dict(params),
        run_id=c.get("run_id"),
        partition_key=key,
        has_partition_key=key is not None,
        partition_time_window=_Window(when),
        log=_logger(),
        op_config={},
        conf={},
    )
    # A Dagster run: its id, and the scheduled tick a schedule's run is tagged with.
    ctx["run"] = types.SimpleNamespace(
        run_id=c.get("run_id"),
        tags={"dagster/scheduled_execution_time": when.isoformat()},
    )
    ctx["ti"] = ctx["task_instance"] = _TI(c)
    ctx["dag_run"] = _Any("dag_run")
    ctx["resources"] = _Any("resources")
    ctx["config"] = _Any("config")
    return ctx


def _key_file(key):
    return os.path.join(STORE_DIR, hashlib.sha1(key.encode()).hexdigest() + ".pkl")


def store(key, value):
    STORE[key] = value
    if STORE_DIR:
        try:
            with open(_key_file(key), "wb") as fh:
                pickle.dump(value, fh)
        except Exception:
            with contextlib.suppress(OSError):
                os.remove(_key_file(key))


def load(key):
    if key in STORE:
        return STORE[key]
    if STORE_DIR and os.path.exists(_key_file(key)):
        with open(_key_file(key), "rb") as fh:
            STORE[key] = pickle.load(fh)
        return STORE[key]
    return None


def scope(ns, params):
    g = dict(ns)
    g.update(params)
    return g


def resolve(spec, ns, params, ctx):
    if "json" in spec:
        return spec["json"]
    if "output" in spec:
        return load(spec["output"])
    if "named" in spec:
        key, name, index = spec["named"]
        value = load(key)
        if isinstance(value, dict) and name in value:
            return value[name]
        if index is not None and isinstance(value, (list, tuple)) and index < len(value):
            return value[index]
        return value
    if "element" in spec:
        key, index = spec["element"]
        if key.startswith("expr:"):
            seq = eval(key[5:], scope(ns, params))
        else:
            seq = load(key)
        if isinstance(seq, dict):
            seq = list(seq.values())
        return list(seq)[index]
    if "list" in spec:
        return [resolve(s, ns, params, ctx) for s in spec["list"]]
    if "expr" in spec:
        return eval(spec["expr"], scope(ns, params))
    if "magic" in spec:
        name = spec["magic"]
        if name in ("context",):
            return ctx
        if name in ctx:
            return ctx[name]
        return _Any(name)
    return None


def to_json(value):
    def default(v):
        if isinstance(v, (set, frozenset)):
            return sorted(v, key=repr)
        if isinstance(v, (_dt.datetime, _dt.date, _dt.time)):
            return v.isoformat()
        if isinstance(v, _dt.timedelta):
            return v.total_seconds()
        if hasattr(v, "__dataclass_fields__"):
            import dataclasses

            return dataclasses.asdict(v)
        raise TypeError("not JSON")

    try:
        return json.loads(json.dumps(value, default=default, sort_keys=True, allow_nan=False))
    except (TypeError, ValueError, RecursionError):
        return {"repr": repr(value)[:2000]}


def unwrap(result):
    if inspect.isgenerator(result):
        items = list(result)
        # Dynamic outputs are the elements of a collection; plain outputs, the last one wins.
        if any(isinstance(x, DynamicOutput) for x in items):
            return [unwrap(x) for x in items]
        # Named outputs (an op with several `Out`s, some optional): a dict of those yielded.
        named = [x for x in items if isinstance(x, Output) and x.output_name != "result"]
        if named:
            return {x.output_name: unwrap(x) for x in named}
        values = [unwrap(x) for x in items]
        return values[-1] if values else None
    if isinstance(result, Output):
        return result.value
    if isinstance(result, MaterializeResult):
        return result.value
    return result


def op_module(req):
    ns = {"__name__": "orchmig_" + req["module"], "__builtins__": __builtins__}
    failed = []
    for text in req.get("support", []):
        try:
            exec(compile(text, "<support>", "exec"), ns)
        except BaseException as e:  # noqa: BLE001 - support code must not stop the worker
            failed.append({"text": text.splitlines()[0] if text else "", "error": repr(e)})
    MODULES[req["module"]] = ns
    return {"ok": True, "failed": failed}


def op_define(req):
    ns = MODULES.setdefault(req["module"], {"__builtins__": __builtins__})
    exec(compile(req["source"], "<" + req.get("alias", req["name"]) + ">", "exec"), ns)
    alias = req.get("alias")
    if alias and alias not in ns:
        ns[alias] = ns[req["name"]]
    return {"ok": True}


def op_call(req):
    ns = MODULES[req["module"]]
    fn = ns[req["func"]]
    params = {}
    for k, v in req.get("params", {}).items():
        try:
            params[k] = resolve(v, ns, {}, {})
        except Exception:
            params[k] = None
    ctx = make_context(req.get("context", {}), params)
    CURRENT["context"] = ctx
    kwargs = {}
    for name, spec in req.get("args", []):
        try:
            value = resolve(spec, ns, params, ctx)
        except Exception:
            continue
        if name == "**":
            if isinstance(value, dict):
                kwargs.update(value)
        else:
            kwargs[name] = value
    _configs(fn, kwargs, params)
    try:
        sig = inspect.signature(fn)
        if not any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
            kwargs = {k: v for k, v in kwargs.items() if k in sig.parameters}
    except (TypeError, ValueError):
        pass
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            result = fn(**kwargs)
            if inspect.iscoroutine(result):
                result = asyncio.run(result)
            result = unwrap(result)
    except _Skip as e:
        return {"ok": True, "skipped": True, "log": out.getvalue()[-4000:], "error": repr(e)}
    except BaseException:  # noqa: BLE001 - a body's failure is a failed attempt
        return {"ok": False, "error": traceback.format_exc(limit=20), "log": out.getvalue()[-4000:]}
    if req.get("kind") == "sensor":
        done = result.is_done if isinstance(result, PokeReturnValue) else bool(result)
        if not done:
            return {"ok": False, "error": "the sensor's condition is not met", "log": out.getvalue()[-4000:]}
        if isinstance(result, PokeReturnValue):
            result = result.xcom_value
    store(req["store"], result)
    try:
        truthy = bool(result)
    except Exception:
        truthy = True
    length = len(result) if isinstance(result, (list, tuple, dict, set, frozenset, range)) else None
    return {"ok": True, "output": to_json(result), "len": length, "truthy": truthy, "log": out.getvalue()[-4000:]}


def op_eval(req):
    ns = MODULES.get(req["module"], {})
    params = {}
    for k, v in req.get("params", {}).items():
        try:
            params[k] = resolve(v, ns, {}, {})
        except Exception:
            params[k] = None
    value = eval(req["expr"], scope(ns, params))
    return {"ok": True, "truthy": bool(value)}


def op_put(req):
    store(req["key"], req.get("value"))
    return {"ok": True}


OPS = {"module": op_module, "define": op_define, "call": op_call, "eval": op_eval, "put": op_put}


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            resp = OPS[req["op"]](req)
        except BaseException:  # noqa: BLE001 - answer every request
            resp = {"ok": False, "error": traceback.format_exc(limit=20)}
        _PROTO.write(json.dumps(resp) + "\n")
        _PROTO.flush()


if __name__ == "__main__":
    main()
