"""/export's workbook is built in a child process (``Store.build_apart``): a child that crashes or runs out of
time is a polite apology to the officer, the bot keeps answering, and no temporary file is left behind."""

from __future__ import annotations

import asyncio
import io
import os
import sys
import tempfile
from pathlib import Path

import openpyxl
import pytest

from messages import plain, text
from storage.database import BuildFailed, Repos, Store
from tests.conftest import MemoryBot
from tests.helpers.campaigns import stored_draft
from tests.helpers.flows import linked
from tests.helpers.memory_chat import MemoryChat
from tests.helpers.processes import ROOT
from tests.helpers.roster import HUNG, MAI

DISTRICT = "Liên đoàn Lao động huyện Hà Quảng"


@pytest.fixture
def temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder this process makes its temporary folders in, empty to start with."""
    folder = tmp_path / "temporary"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def leftovers(temporary: Path) -> list[Path]:
    """The folders of builds left in ``temporary`` (multiprocessing's own folder lives as long as the
    process)."""
    return list(temporary.glob("thidua-build-*"))


async def district_name(repos: Repos) -> str:
    """The district's name, as the child reads it on a connection of its own."""
    district = await repos.units.by_code("LDLD-HQ")
    return district.name if district is not None else "?"


async def crash(repos: Repos) -> str:
    """A child that dies without a word, as one killed by the kernel for its memory."""
    os._exit(3)


async def failing(repos: Repos) -> str:
    """A child whose work raises."""
    raise ValueError("no such sheet")


async def test_a_child_reads_the_database_on_its_own_and_a_crash_raises_and_leaves_nothing(
    store: Store, temporary: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert await store.build_apart(district_name, timeout=60) == DISTRICT
    with pytest.raises(BuildFailed, match="code 3"):
        await store.build_apart(crash, timeout=60)
    assert leftovers(temporary) == []
    with pytest.raises(BuildFailed, match="code 1"):
        await store.build_apart(failing, timeout=60)
    assert "ValueError: no such sheet" in caplog.text  # the child's traceback, in the bot's log
    assert leftovers(temporary) == []
    assert await store.build_apart(district_name, timeout=60) == DISTRICT  # the next build is not hindered


@pytest.mark.parametrize("channel_kind", ["memory-buttons"], indirect=True)  # a channel that sends files
async def test_an_export_out_of_time_is_an_apology_and_the_bot_keeps_answering(
    memory_bot: MemoryBot, store: Store, temporary: Path
) -> None:
    await stored_draft(store)  # TCN-2026 of the district LDLD-HQ, which Hùng leads
    hung = await linked(lambda *person: MemoryChat(lambda: memory_bot.runtime, *person), HUNG)
    mai = await linked(lambda *person: MemoryChat(lambda: memory_bot.runtime, *person), MAI)
    await hung.send("/baocao TCN-2026")
    workbook = hung.last.file  # built in a child
    assert workbook is not None
    assert openpyxl.load_workbook(io.BytesIO(workbook.content)).sheetnames[0] == plain(
        text("vi", "export.sheet_summary")
    )

    memory_bot.settings = memory_bot.settings.model_copy(update={"export_timeout": 0.001})
    await memory_bot.restart()
    await hung.send("/baocao TCN-2026")
    assert hung.last_text == plain(text("vi", "insights.export_failed", code="TCN-2026"))
    assert leftovers(temporary) == []
    await mai.send("/start")  # nobody else is hindered
    assert mai.last_text != plain(text("vi", "fallback.error"))
    assert "Hoàng Thị Mai" in mai.last_text


# A child of its own (TMPDIR is read once per process), building with the district's name as its work.
BUILD_ONCE = """
import asyncio, sys
from storage.database import Store
from tests.test_export_child import district_name

async def main() -> None:
    store = Store(sys.argv[1])
    try:
        print(await store.build_apart(district_name, timeout=60))
    finally:
        await store.close()

asyncio.run(main())
"""


async def test_under_a_temporary_folder_too_deep_for_a_socket_the_builds_are_spawned(
    store: Store, tmp_path: Path
) -> None:
    # The forkserver listens on a Unix socket in TMPDIR, whose path may not pass ~107 characters.
    deep = tmp_path / ("d" * 120)
    deep.mkdir()
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        BUILD_ONCE,
        store.url,
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(deep)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(child.communicate(), 120)
    assert out.decode().strip() == DISTRICT, err.decode()
    assert "builds are spawned instead" in err.decode()
    assert list(deep.glob("thidua-build-*")) == []
