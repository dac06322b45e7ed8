"""/reload when the storage refuses the new index: a full disk, then a read-only data folder
(both real: a small tmpfs, remounted read-only). The admin is told why, without server paths;
questions go on being answered from the old index; /status remembers the failure."""

from __future__ import annotations

from ..embeddings.test_crash_safety import write_articles
from ..embeddings.test_index_faults import fill, remount, tmpfs
from ..embeddings.test_index_faults import snapshot_of as files_of
from .conftest import Discord, embed, play

SCO_QUESTION = "When will the SCO security council secretaries meet?"


def snapshot_of(data):
    """The index's files: the bot's feedback store beside them is not the index."""
    return {name: content for name, content in files_of(data).items() if not name.startswith("feedback")}


def test_a_reload_that_cannot_write_tells_the_admin_why_and_the_old_index_keeps_answering(tmp_path, make_engine, seeds):
    with tmpfs(tmp_path / "disk", "4m") as disk:
        data = disk / "data"
        engine = make_engine(seeds, data)
        engine.refresh()
        generation, count = engine.status().generation, len(engine.articles())
        write_articles(seeds, 0, 8)
        ballast = fill(disk, 4)
        before = snapshot_of(data)

        async def reload_fails(d: Discord, reason: str) -> None:
            reload = await d.server.slash(d.carol, "reload")
            await d.server.wait_for(
                lambda: reload.original and "Could not write" in reload.original["content"], timeout=60
            )
            text = reload.original["content"]
            assert text.startswith(f"Could not write the new index: {reason}"), text
            assert "previous index is unchanged and still in use" in text
            assert str(disk) not in text and "/data" not in text  # no server paths for Discord users

            question = await d.server.slash(d.dave, "ask", question=SCO_QUESTION)
            await d.server.wait_for(lambda: question.original and not question.loading)
            assert embed(question.original)["title"] == "May 21-22"

            status = await d.server.slash(d.alice, "status")
            await d.server.wait_for(lambda: status.original and not status.loading)
            fields = {f["name"]: f["value"] for f in embed(status.original)["fields"]}
            assert fields["Last reload"].startswith("by Carol, <t:")
            assert f"failed: Could not write the new index: {reason}" in fields["Last reload"]
            assert fields["Articles"] == str(count)

        async def scenario(d: Discord) -> None:
            await reload_fails(d, "no space left on the device")
            assert snapshot_of(data) == before and engine.status().generation == generation

            ballast.unlink()
            remount(disk, "ro")
            try:
                await reload_fails(d, "the file system is read-only")
            finally:
                remount(disk, "rw")
            assert snapshot_of(data) == before

            reload = await d.server.slash(d.carol, "reload")  # writable again: it goes through
            await d.server.wait_for(
                lambda: reload.original and reload.original["content"].startswith("**Reload finished**"), timeout=60
            )
            assert "8 added" in reload.original["content"]

        play(engine, scenario)
        assert len(engine.articles()) == count + 8 and not list(data.glob(".tmp-*"))
