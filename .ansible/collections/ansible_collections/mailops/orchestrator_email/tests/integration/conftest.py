"""Integration fixtures: the collection as users install it, playbook runs, and the stores."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.lib.ansible_runner import Ansible, build_and_install  # noqa: E402
from tests.lib.backends import BACKENDS  # noqa: E402


@pytest.fixture(scope="session")
def collections_path(tmp_path_factory):
    """The collection built with ansible-galaxy and installed, once per test session."""
    return build_and_install(str(tmp_path_factory.mktemp("collections")))


@pytest.fixture
def ansible(collections_path, tmp_path):
    return Ansible(collections_path, str(tmp_path))


@pytest.fixture(params=sorted(BACKENDS))
def store(request, tmp_path):
    """Each settings store in turn; tests written against it run once per backend."""
    backend = BACKENDS[request.param](str(tmp_path), request)
    yield backend
    backend.close()
