"""Attack tests: each reproduces a hostile client's probe against a real stage with real clients and
shows it refused. They share the integration tests' fixtures (the built binary, a running stage)."""
import importlib.util
import pathlib
import sys

_INTEGRATION = pathlib.Path(__file__).resolve().parents[1] / "Integration"
sys.path.insert(0, str(_INTEGRATION))
_spec = importlib.util.spec_from_file_location("integration_fixtures", _INTEGRATION / "conftest.py")
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)

local_runtime = _fixtures.local_runtime
root = _fixtures.root
stage = _fixtures.stage
provider = _fixtures.provider
moto = _fixtures.moto
private_state = _fixtures.private_state
