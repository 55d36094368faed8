import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Import plugins by file path, the way Ansible loads them, without installing the collection.
sys.path.insert(0, str(ROOT / "plugins" / "filter"))
sys.path.insert(0, str(ROOT / "plugins" / "module_utils"))
sys.path.insert(0, str(ROOT / "plugins" / "modules"))
