"""A download button whose file is made only when it is clicked."""

from __future__ import annotations

from collections.abc import Callable

import solara
from solara.components.file_download import FileDownloadWidget

__all__ = ["Download"]


@solara.component
def Download(
    make: Callable[[], str | bytes],
    filename: str,
    label: str,
    mime_type: str,
    icon_name: str = "mdi-cloud-download-outline",
) -> None:
    """A button that downloads the file ``make`` returns, made when the button is clicked.

    Unlike ``solara.FileDownload``, a new ``make`` on every frame (a live
    chart's newest table) costs nothing: the newest is kept and called on a
    click, where Solara's own button starts a thread for every new one.

    Args:
        make: the file's content (text is sent as UTF-8).
        filename: the name the browser saves it under.
        label: the button's text.
        mime_type: the file's type.
        icon_name: the button's icon.
    """
    requested, set_requested = solara.use_state(False)
    newest = solara.use_ref(make)
    newest.current = make

    def content() -> bytes | None:
        if not requested:
            return None
        made = newest.current()
        return made.encode("utf-8") if isinstance(made, str) else made

    result = solara.use_thread(content, dependencies=[requested])
    if result.state == solara.ResultState.ERROR and result.error:
        raise result.error
    running = result.state == solara.ResultState.RUNNING
    FileDownloadWidget.element(
        filename=filename,
        bytes=result.value if result.state == solara.ResultState.FINISHED else None,
        request_download=requested,
        on_request_download=set_requested,
        children=[solara.Button(label, loading=running, icon_name=icon_name)],
        mime_type=mime_type,
    )
