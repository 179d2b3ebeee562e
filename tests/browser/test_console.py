"""The console in a real browser: log in, filter, a job's timeline, cancel, retry,
import, export and the system page; a screenshot of each page in test-output/."""

from __future__ import annotations

import re

from playwright.sync_api import FilePayload, Page, expect

from tests.browser.conftest import EMAIL, PASSWORD, Server, screenshot
from tests.browser.jobs import (
    bad_csv,
    completed_export,
    import_job,
    sample_csv,
    wait_for,
)


def test_a_visit_without_a_session_logs_in_by_keyboard_and_returns(
    page: Page,
) -> None:
    page.goto("/app/export")
    expect(page).to_have_url(re.compile(r"/app/login\?next=%2Fapp%2Fexport$"))
    expect(page.get_by_label("Email")).to_be_focused()
    screenshot(page, "login")

    page.keyboard.type(EMAIL)
    page.keyboard.press("Tab")
    page.keyboard.type("wrong password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")

    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/app/export$"))
    expect(page.get_by_role("heading", name="Export products")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/app/login$"))
    page.goto("/app")
    expect(page).to_have_url(re.compile(r"/app/login\?next=%2Fapp$"))


def test_jobs_are_filtered_by_status_with_counts_per_status(
    server: Server, logged_in: Page
) -> None:
    page = logged_in
    with server.api() as api:
        export_id = completed_export(api)
        failed_id = import_job(api, bad_csv(), "failed")
        counts = api.get("/admin/jobstream/jobs").json()["status_counts"]
    page.goto("/app")
    rows = page.locator("#job-rows tr")
    expect(page.locator(f'tr[data-job-id="{export_id}"]')).to_be_visible()
    failed_button = page.locator("#status-counts button[data-status=failed]")
    expect(failed_button).to_contain_text(str(counts["failed"]))
    screenshot(page, "jobs")

    failed_button.click()

    expect(page).to_have_url(re.compile(r"/app\?status=failed$"))
    expect(failed_button).to_have_attribute("aria-pressed", "true")
    expect(page.locator(f'tr[data-job-id="{failed_id}"]')).to_be_visible()
    expect(page.locator(f'tr[data-job-id="{export_id}"]')).to_have_count(0)
    expect(rows).to_have_count(counts["failed"])
    for status in rows.locator(".status").all():
        expect(status).to_have_text("Failed")

    page.get_by_label("Completed", exact=True).check()
    page.get_by_label("Failed", exact=True).uncheck()
    page.get_by_role("button", name="Apply filters").click()

    expect(page).to_have_url(re.compile(r"/app\?status=completed$"))
    expect(page.locator(f'tr[data-job-id="{export_id}"]')).to_be_visible()
    expect(page.locator(f'tr[data-job-id="{failed_id}"]')).to_have_count(0)
    page.go_back()
    expect(page.locator(f'tr[data-job-id="{failed_id}"]')).to_be_visible()


def test_a_new_job_appears_in_the_list_without_a_reload(
    server: Server, logged_in: Page
) -> None:
    page = logged_in
    page.goto("/app")
    expect(page.locator("#live")).to_have_text("Live updates on.")

    with server.api() as api:
        export_id = completed_export(api)

    row = page.locator(f'tr[data-job-id="{export_id}"]')
    expect(row.locator(".status")).to_have_text("Completed")


def test_a_jobs_page_shows_its_timeline_and_its_state_at_a_version(
    server: Server, logged_in: Page
) -> None:
    page = logged_in
    with server.api() as api:
        job_id = completed_export(api)
        versions = len(api.get(f"/admin/batch-jobs/{job_id}/events").json()["events"])
    page.goto("/app")
    page.get_by_role("link", name=job_id).click()

    expect(page).to_have_url(re.compile(f"/app/jobs/{job_id}$"))
    expect(page.locator("#summary")).to_contain_text("Completed")
    expect(page.locator("#timeline tr")).to_have_count(versions)
    expect(page.locator("#timeline tr").first).to_contain_text("batch.created")
    expect(page.locator("#stats")).to_contain_text("products exported")
    expect(page.get_by_role("button", name="Retry")).to_be_disabled()

    page.get_by_role("button", name="Show the job as it stood after event 1").click()

    expect(page.get_by_role("heading", name="State at version 1")).to_be_focused()
    expect(page.locator("#state-summary")).to_contain_text("Created")
    expect(page.locator("#state-json")).to_contain_text(f'"id": "{job_id}"')
    screenshot(page, "job")


def test_a_job_is_canceled_from_its_page(server: Server, logged_in: Page) -> None:
    page = logged_in
    with server.api() as api:
        job_id = import_job(api, sample_csv(), "pre_processed")
        page.goto(f"/app/jobs/{job_id}")
        expect(page.locator("#summary")).to_contain_text("Pre processed")

        page.get_by_role("button", name="Cancel").click()

        expect(page.locator("#summary")).to_contain_text("Canceled")
        expect(page.get_by_role("button", name="Cancel")).to_be_disabled()
        expect(page.get_by_role("button", name="Confirm")).to_be_disabled()
        assert wait_for(api, job_id, {"canceled"})["canceled_at"] is not None


def test_a_status_change_made_elsewhere_shows_live_on_the_job_page(
    server: Server, logged_in: Page
) -> None:
    page = logged_in
    with server.api() as api:
        job_id = import_job(api, sample_csv(), "pre_processed")
        page.goto(f"/app/jobs/{job_id}")
        expect(page.locator("#summary")).to_contain_text("Pre processed")
        expect(page.locator("#live")).to_have_text("Live updates on.")

        assert api.post(f"/admin/batch-jobs/{job_id}/confirm").status_code == 200

        expect(page.locator("#summary")).to_contain_text("Completed")
        expect(page.locator("#progress-text")).to_contain_text("100%")


def test_without_the_feed_the_pages_poll_every_two_seconds(
    server: Server, logged_in: Page
) -> None:
    page = logged_in
    page.route("**/admin/jobstream/feed*", lambda route: route.fulfill(status=404))
    with server.api() as api:
        job_id = import_job(api, sample_csv(), "pre_processed")
        page.goto(f"/app/jobs/{job_id}")
        expect(page.locator("#live")).to_have_text(
            "Refreshing every 2 seconds (the live feed is not available)."
        )

        assert api.post(f"/admin/batch-jobs/{job_id}/confirm").status_code == 200

        expect(page.locator("#summary")).to_contain_text("Completed")


def test_a_failed_job_is_retried_from_its_page(server: Server, logged_in: Page) -> None:
    page = logged_in
    with server.api() as api:
        failed_id = import_job(api, bad_csv(), "failed")
    page.goto(f"/app/jobs/{failed_id}")
    expect(page.locator("#errors li").first).to_be_visible()
    expect(
        page.get_by_role("link", name="Download the error report")
    ).to_have_attribute("href", f"/admin/jobstream/jobs/{failed_id}/files/error_report")

    page.get_by_role("button", name="Retry").click()

    expect(page).not_to_have_url(re.compile(f"/app/jobs/{failed_id}$"))
    expect(page.locator("#retry-links")).to_contain_text(f"Retry of {failed_id}")
    page.get_by_role("link", name=failed_id).click()
    expect(page.locator("#retry-links")).to_contain_text("Retried as")


def test_a_csv_is_imported_through_the_preview(server: Server, logged_in: Page) -> None:
    page = logged_in
    products_csv = sample_csv()
    wanted = {line.split(",")[0] for line in products_csv.decode().splitlines()[1:]}
    page.goto("/app")
    page.get_by_role("link", name="Import").click()
    page.get_by_label("Product CSV file").set_input_files(
        files=[
            FilePayload(name="products.csv", mimeType="text/csv", buffer=products_csv)
        ]
    )
    page.get_by_role("button", name="Upload and preview").click()

    preview = page.locator("#preview")
    expect(preview).to_be_visible()
    expect(preview).to_contain_text("There will be 3 products created")
    expect(page.locator("#import-status")).to_contain_text("Check the preview")
    screenshot(page, "import")

    page.get_by_role("button", name="Confirm import").click()

    expect(page.locator("#import-status")).to_contain_text("Import completed")
    expect(page.locator("#import-count")).to_contain_text("100%")
    job_id = page.locator("#import-job-link a").inner_text()
    with server.api() as api:
        assert wait_for(api, job_id, {"completed"})["status"] == "completed"
        products = api.get("/admin/products", params={"limit": 100}).json()["products"]
    handles = {product["handle"] for product in products}
    assert wanted <= handles


def test_an_import_with_bad_lines_lists_them_with_the_report(
    server: Server, logged_in: Page
) -> None:
    page = logged_in
    page.goto("/app/import")
    page.get_by_label("Product CSV file").set_input_files(
        files=[FilePayload(name="bad.csv", mimeType="text/csv", buffer=bad_csv())]
    )
    page.get_by_role("button", name="Upload and preview").click()

    expect(page.locator("#import-status")).to_have_text("The import failed.")
    expect(page.locator("#problem-list")).to_contain_text(
        'Line 3, column "Price USD": "lots" is not a number'
    )
    expect(page.locator("#preview")).to_be_hidden()
    report = page.get_by_role("link", name="Download the error report")
    expect(report).to_have_attribute("href", re.compile(r"/files/error_report$"))
    screenshot(page, "import-problems")


def test_an_export_is_started_watched_and_downloaded(logged_in: Page) -> None:
    page = logged_in
    page.goto("/app/export")
    page.get_by_role("button", name="Start an export").click()

    expect(page.locator("#export-status")).to_have_text(
        "The export is ready to download."
    )
    link = page.locator("#export-download a")
    with page.expect_download() as download:
        link.click()
    content = download.value.path().read_text(encoding="utf-8")
    assert "Product Handle" in content.splitlines()[0]
    expect(page.locator("#recent-exports tr").first).to_contain_text("Completed")
    screenshot(page, "export")


def test_the_system_page_shows_workers_lag_and_an_hour_of_throughput(
    server: Server, logged_in: Page
) -> None:
    page = logged_in
    with server.api() as api:
        completed_export(api)
        system = api.get("/admin/jobstream/system").json()
    page.goto("/app/system")

    expect(page.locator("#workers tr")).to_have_count(max(1, len(system["workers"])))
    expect(page.locator("#read-models tr")).to_have_count(len(system["read_models"]))
    chart = page.get_by_role("img", name="Jobs per minute by status, last hour")
    expect(chart).to_be_visible()
    expect(chart.locator("g")).to_have_count(60)
    expect(chart.locator("rect.bar-created")).not_to_have_count(0)
    expect(page.locator("#throughput-rows tr")).to_have_count(60)
    expect(page.locator("#system-status")).to_contain_text("Updated")
    screenshot(page, "system")


UNNAMED_CONTROLS = """() => [...document.querySelectorAll("input, select, textarea, button, a")]
  .filter((el) => {
    const name = el.labels?.length ? [...el.labels].map((l) => l.textContent).join(" ")
      : el.getAttribute("aria-label") || el.textContent;
    return !(name || "").trim();
  })
  .map((el) => el.outerHTML)"""


def test_every_control_on_every_page_has_a_name(
    server: Server, logged_in: Page
) -> None:
    page = logged_in
    with server.api() as api:
        job_id = completed_export(api)
    filled = {  # what each page shows once its script has filled it in
        "/app": "#job-rows tr",
        f"/app/jobs/{job_id}": "#timeline tr",
        "/app/import": "#upload-form",
        "/app/export": "#recent-exports tr",
    }
    for path, content in filled.items():
        page.goto(path)
        expect(page.locator(content).first).to_be_visible()
        assert page.evaluate(UNNAMED_CONTROLS) == [], path
        # The first Tab reaches the skip link, which moves focus to the content.
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.context.clear_cookies()
    page.goto("/app/login")
    assert page.evaluate(UNNAMED_CONTROLS) == []
