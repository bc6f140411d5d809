"""The invalid corpus (tests/data/invalid/*.yml) through the pure validator.

Each file names, in its first two comment lines, the error path it must produce and words of the
rule's message. The integration test runs the same corpus through the settings module and checks
that the store is unchanged; this one is fast and names the file that regressed.
"""
import glob
import os

import pytest

from ansible_collections.mailops.orchestrator_email.plugins.module_utils._validation import (
    DuplicateKeyError,
    load_declared_text,
    validate_config,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# .yml.txt: files that yamllint (ansible-test sanity) would refuse, such as a key given twice
CORPUS = sorted(glob.glob(os.path.join(ROOT, "tests", "data", "invalid", "*.yml"))
                + glob.glob(os.path.join(ROOT, "tests", "data", "invalid", "*.yml.txt")))
TOP_LEVEL = "(top level)"  # the expect-path of an error about the whole file


def load_and_validate(path):
    """As the modules read a file: a key twice is an error of the loader, the rest the validator's."""
    with open(path) as handle:
        try:
            config = load_declared_text(handle.read())
        except DuplicateKeyError as exc:
            return exc.errors, None
    errors, _warnings, normalized = validate_config(config)
    return errors, normalized


def expectation(path):
    with open(path) as handle:
        header = dict(line[2:].split(": ", 1) for line in handle.read().splitlines()[:2])
    path = header["expect-path"]
    return ("" if path.strip() == TOP_LEVEL else path), header["expect-words"].strip()


def test_the_corpus_is_large_enough():
    assert len(CORPUS) >= 40


@pytest.mark.parametrize("path", CORPUS, ids=[os.path.basename(p) for p in CORPUS])
def test_every_invalid_config_fails_with_its_path_and_rule(path):
    expected_path, words = expectation(path)
    errors, normalized = load_and_validate(path)
    assert normalized is None and errors
    messages = [e["message"] for e in errors if e["path"] == expected_path]
    assert messages, (expected_path, errors)
    assert any(words in m for m in messages), (words, messages)


def test_every_rule_of_the_validator_is_in_the_corpus():
    """Each distinct error message (up to its variable part) that the corpus produces: the corpus
    covers the rules listed here, so a rule dropped from the corpus shows up as a failure."""
    seen = set()
    for path in CORPUS:
        errors = load_and_validate(path)[0]
        seen.update(e["message"] for e in errors)
    rules = ["is required", "unknown key", "must be an integer", "must be a port number", "must be true or false",
             "must be true with smtp_port 465", "without a scheme", "is not a valid host name", "is not a valid email",
             "must not contain a line break", "must be at most", "must not be empty", "must not be null",
             "looks like a masked value", "must be from 1 to 300000", "must be true for Gmail",
             "must be 587 (STARTTLS) or 465", "is required for Gmail", "must be the same as smtp_username",
             "must be a valid email address", "is not allowed with state: absent", "must be 'present' or 'absent'",
             "organization names must be", "must be a mapping", "must be a GUID", "is only allowed together with",
             "the configuration must be a mapping", "the configuration is empty",
             "ignores smtp_username and smtp_password", "is not allowed with vendor_default_mailer",
             "appears twice in the same mapping", "not a string: YAML reads", "must be a string, a number or true/false",
             "must not contain control characters", "the same partition as", "expands to more than"]
    missing = [rule for rule in rules if not any(rule in message for message in seen)]
    assert not missing, missing
