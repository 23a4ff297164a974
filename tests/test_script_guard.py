"""A library script without `if __name__ == "__main__":` whose workers re-import it: one line naming the
script, never "a worker process died (out of memory?)"; with the guard, the same script runs."""
import os
import subprocess
import sys
import textwrap

from conftest import REPO

SCRIPT = """
from featbench.corpus import load_corpus
from featbench.executors import Local
from featbench.extract import run_extraction

{indent}table = load_corpus("demo", {corpus!r})
{indent}run_extraction(table, [("egemaps-func", {{}})], "store", executor=Local(2), progress=False)
{indent}print("extracted", len(table))
"""


def _run(tmp_path, corpus, guarded: bool) -> subprocess.CompletedProcess:
    body = SCRIPT.format(indent="    " if guarded else "", corpus=str(corpus))
    if guarded:
        body = body.replace('\n    table =', '\nif __name__ == "__main__":\n    table =', 1)
    script = tmp_path / ("guarded.py" if guarded else "unguarded.py")
    script.write_text(textwrap.dedent(body))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)


def test_unguarded_script_is_named_in_one_line(tmp_path, demo_corpus):
    done = _run(tmp_path, demo_corpus, guarded=False)
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"featbench: error: {tmp_path / 'unguarded.py'} starts featbench work at import time; put it under "
        '`if __name__ == "__main__":` (worker processes re-import the script)']
    assert "extracted" not in done.stdout


def test_guarded_script_runs(tmp_path, demo_corpus):
    done = _run(tmp_path, demo_corpus, guarded=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "extracted 32"
    assert (tmp_path / "store" / "egemaps-func.h5").is_file()


def test_the_parent_is_not_a_worker_importing_a_script():
    from featbench.script_guard import importing_script, unguarded_script

    assert not importing_script()

    class Dead:
        exitcode = 1  # killed or crashed for another reason: not a script without a guard

    assert unguarded_script([Dead()]) is None


def test_a_worker_that_left_importing_the_script_names_it():
    from featbench.script_guard import EXIT_CODE, ScriptNotGuardedError, unguarded_script

    class Left:
        exitcode = EXIT_CODE

    err = unguarded_script([Left()])
    assert isinstance(err, ScriptNotGuardedError) and "starts featbench work at import time" in str(err)
