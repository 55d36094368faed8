"""The unit tests import the collection's code by its collection path, as Ansible loads it
(ansible_collections.inferops.inference.plugins...). `make collection-link` links this checkout
into .lab/collections; that folder goes on sys.path, and Ansible's collection loader is installed
for it before any test module is collected (as ansible-test's pytest plugin does): modules
imported here are then the same objects that Ansible's plugin loader finds later, for example
when a test renders a role template that calls the collection's filters."""
import sys
from pathlib import Path

from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / ".lab" / "collections"
_LINK = COLLECTIONS / "ansible_collections" / "inferops" / "inference"

if _LINK.resolve() != ROOT:
    raise RuntimeError(f"{_LINK} does not lead to this checkout: run `make collection-link` (or `make unit`)")
sys.path.insert(0, str(COLLECTIONS))
_AnsibleCollectionFinder(paths=[str(COLLECTIONS)])._install()  # pylint: disable=protected-access
