"""The console's HTML: one layout, a template per page, filled with escaped values.

Templates are read once, at import; a page costs a few string substitutions.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from importlib.resources import files
from string import Template

from domain.users import User, UserRole
from service.console.assets import ASSETS

_TEMPLATES = files("service.console") / "templates"
STATUSES = (
    "created",
    "pre_processed",
    "confirmed",
    "processing",
    "completed",
    "canceled",
    "failed",
)


def _template(name: str) -> Template:
    return Template((_TEMPLATES / f"{name}.html").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Page:
    """A page of the console: its name (body's data-page), title and nav entry."""

    name: str
    title: str
    href: str
    admin_only: bool = False


JOBS = Page("jobs", "Jobs", "/app")
JOB = Page("job", "Job", "")
IMPORT = Page("import", "Import", "/app/import")
EXPORT = Page("export", "Export", "/app/export")
SYSTEM = Page("system", "System", "/app/system", admin_only=True)
LOGIN = Page("login", "Log in", "/app/login")
NAVIGATION = (JOBS, IMPORT, EXPORT, SYSTEM)

_LAYOUT = _template("layout")
_BODIES = {
    page.name: _template(page.name)
    for page in (JOBS, JOB, IMPORT, EXPORT, SYSTEM, LOGIN)
}
_STATUS_BOX = (
    '<label class="check"><input type="checkbox" name="status" value="{0}"> {1}</label>'
)
_CREATOR_FIELD = (
    '<div class="field">\n<label for="f-creator">Created by (user id)</label>\n'
    '<input id="f-creator" name="created_by" autocomplete="off">\n</div>'
)


def status_label(status: str) -> str:
    return status.replace("_", " ").capitalize()


def _nav(current: Page, user: User) -> str:
    links = []
    for page in NAVIGATION:
        if page.admin_only and user.role is not UserRole.ADMIN:
            continue
        mark = ' aria-current="page"' if page is current else ""
        links.append(f'<li><a href="{page.href}"{mark}>{page.title}</a></li>')
    return (
        f'<nav aria-label="Console"><ul>{"".join(links)}</ul></nav>\n'
        f'<div class="account"><span class="who">{escape(user.email)} '
        f'<span class="role">({escape(user.role.value)})</span></span>\n'
        '<button type="button" id="logout">Log out</button></div>'
    )


def render(page: Page, user: User | None, **values: str) -> str:
    """The page for `user` (None on the login page); `values` fill its template."""
    main_values = {
        "status_boxes": "\n".join(
            _STATUS_BOX.format(status, status_label(status)) for status in STATUSES
        ),
        "creator_field": _CREATOR_FIELD
        if user is not None and user.role is UserRole.ADMIN
        else "",
        **{key: escape(value) for key, value in values.items()},
    }
    data = "".join(
        f' data-{key.replace("_", "-")}="{escape(value)}"'
        for key, value in values.items()
    )
    if user is not None:
        data += f' data-role="{escape(user.role.value)}"'
    title = page.title if page is not JOB else f"Job {values.get('job_id', '')}"
    return _LAYOUT.substitute(
        title=escape(title),
        version=ASSETS.version,
        page=page.name,
        data=data,
        header=_nav(page, user) if user is not None else "",
        main=_BODIES[page.name].substitute(main_values),
    )
