// Jobstream console: one ES module for every page (body[data-page] picks the part).
// It calls the operator API (/admin/jobstream/...) and Medusa's /admin routes with the
// session cookie; it builds DOM nodes, never HTML strings, so no data is ever markup.

const STATUSES = ["created", "pre_processed", "confirmed", "processing", "completed", "canceled", "failed"];
const FINAL = new Set(["completed", "canceled", "failed"]);
const POLL_MS = 2000;

// -- helpers -----------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, type, message) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

function toLogin() {
  const next = location.pathname + location.search;
  location.assign(`/app/login?next=${encodeURIComponent(next)}`);
}

async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: { accept: "application/json" } };
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["content-type"] = "application/json";
  }
  const response = await fetch(path, init);
  if (response.status === 401 && !path.startsWith("/admin/auth")) {
    toLogin();
    throw new ApiError(401, "unauthorized", "Your session has ended: log in again.");
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const message = data?.message || `${method} ${path} answered ${response.status}`;
    throw new ApiError(response.status, data?.type || "error", message);
  }
  return data;
}

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const label = (status) => (status || "").replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());

function when(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

function timeCell(iso) {
  const short = iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" }) : "";
  return h("td", { class: "time" }, iso ? h("time", { datetime: iso, title: when(iso) }, short) : "—");
}

function statusBadge(status) {
  return h("span", { class: `status status-${status}` }, label(status));
}

// The share of a job done, 0..1, or null when it cannot be told.
function progressOf(job) {
  if (job.status === "completed") return 1;
  const result = job.result || {};
  if (typeof result.progress === "number") return Math.max(0, Math.min(1, result.progress));
  if (result.count > 0 && typeof result.advancement_count === "number") {
    return Math.max(0, Math.min(1, result.advancement_count / result.count));
  }
  return null;
}

function progressNodes(job, name) {
  const share = progressOf(job);
  const bar = h("progress", { max: 1, "aria-label": `Progress of ${name}` });
  if (share === null) {
    // A job still working shows a moving (indeterminate) bar; a finished one, nothing.
    return FINAL.has(job.status) ? [h("span", { class: "pct" }, "—")] : [bar];
  }
  bar.value = share;
  return [bar, h("span", { class: "pct" }, `${Math.round(share * 100)}%`)];
}

function setProgress(bar, text, job) {
  const share = progressOf(job);
  const result = job.result || {};
  if (share === null) {
    bar.removeAttribute("value");
    text.textContent = "";
    return;
  }
  bar.value = share;
  const counts = typeof result.count === "number" ? ` (${result.advancement_count ?? 0} of ${result.count})` : "";
  text.textContent = `${Math.round(share * 100)}%${counts}`;
}

function fileLinks(job) {
  const result = job.result || {};
  const links = [];
  if (result.file_key) {
    const size = typeof result.file_size === "number" ? ` (${result.file_size} bytes)` : "";
    links.push(h("a", { href: `/admin/jobstream/jobs/${encodeURIComponent(job.id)}/files/result`, download: "" }, `Download the result file${size}`));
  }
  if (result.error_report_file_key) {
    links.push(h("a", { href: `/admin/jobstream/jobs/${encodeURIComponent(job.id)}/files/error_report`, download: "" }, "Download the error report"));
  }
  return links;
}

// -- live updates: the SSE feed read with fetch (status codes visible), else polling --

async function readFeed(url, signal, onOpen, onMessage) {
  const response = await fetch(url, { credentials: "same-origin", headers: { accept: "text/event-stream" }, signal });
  if (response.status === 404) return "absent";
  if (response.status === 401) {
    toLogin();
    return "absent";
  }
  if (!response.ok || !response.body) throw new Error(`feed answered ${response.status}`);
  onOpen();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return "closed";
    buffer += value.replace(/\r\n?/g, "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const message = { id: null, event: "message", data: [] };
      for (const line of block.split("\n")) {
        if (!line || line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const content = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "id") message.id = content;
        else if (field === "event") message.event = content;
        else if (field === "data") message.data.push(content);
      }
      if (message.data.length) onMessage(message);
    }
  }
}

// Calls onChange(feed item) per change and refresh() whenever the page should reload
// what it shows (on connecting, and every 2 s when the service has no feed).
function live({ jobId = null, status, onChange = () => {}, refresh }) {
  const controller = new AbortController();
  let after = null;
  let timer = null;
  const say = (text) => {
    if (status.textContent !== text) status.textContent = text;
  };
  const poll = () => {
    say(`Refreshing every ${POLL_MS / 1000} seconds (the live feed is not available).`);
    timer = setInterval(() => {
      if (!document.hidden) refresh();
    }, POLL_MS);
  };
  (async () => {
    let failures = 0;
    while (!controller.signal.aborted) {
      const query = new URLSearchParams();
      if (jobId) query.set("job_id", jobId);
      if (after) query.set("after", after);
      try {
        const outcome = await readFeed(
          `/admin/jobstream/feed${query.size ? `?${query}` : ""}`,
          controller.signal,
          () => {
            failures = 0;
            say("Live updates on.");
            refresh();
          },
          (message) => {
            if (message.id) after = message.id;
            if (message.event !== "batch_job") return;
            try {
              onChange(JSON.parse(message.data.join("\n")));
            } catch (error) {
              console.error(error);
            }
          },
        );
        if (outcome === "absent") {
          poll();
          return;
        }
      } catch (error) {
        if (controller.signal.aborted) return;
        failures += 1;
      }
      say("Live updates interrupted; reconnecting…");
      await sleep(Math.min(1000 * 2 ** failures, 15000));
    }
  })();
  return () => {
    controller.abort();
    if (timer) clearInterval(timer);
  };
}

// Runs fn at most once per `ms`, the last call winning.
function throttled(fn, ms) {
  let pending = null;
  let running = false;
  let again = false;
  const run = async () => {
    pending = null;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      await fn();
    } finally {
      running = false;
      if (again) {
        again = false;
        schedule();
      }
    }
  };
  const schedule = () => {
    if (!pending) pending = setTimeout(run, ms);
  };
  return schedule;
}

// The job's document, reloaded on each change until stop() or a final status.
function watchJob(id, status, onJob) {
  let stop = () => {};
  const load = async () => {
    const detail = await api("GET", `/admin/jobstream/jobs/${encodeURIComponent(id)}`);
    onJob(detail.batch_job, detail);
  };
  const refresh = throttled(() => load().catch((error) => showError(status, error)), 250);
  stop = live({ jobId: id, status, refresh, onChange: refresh });
  return () => {
    stop();
    status.textContent = "";
  };
}

function showError(target, error) {
  target.textContent = error instanceof ApiError ? error.message : `Something went wrong: ${error.message}`;
}

// -- pages ---------------------------------------------------------------------------

function loginPage() {
  const form = $("login-form");
  const error = $("login-error");
  $("email").focus();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const email = form.email.value.trim();
    const password = form.password.value;
    if (!email || !password) {
      error.textContent = "Enter your email and password.";
      return;
    }
    try {
      await api("POST", "/admin/auth", { email, password });
    } catch (failure) {
      error.textContent = failure.status === 401 ? "Wrong email or password." : failure.message;
      form.password.select();
      return;
    }
    const next = new URLSearchParams(location.search).get("next") || "";
    // Only a path of the console itself: never another site.
    location.assign(/^\/app(\/|$|\?)/.test(next) ? next : "/app");
  });
}

function jobsPage() {
  const form = $("filters");
  const rows = $("job-rows");
  const counts = $("status-counts");
  const selectAll = $("select-all");
  const cancelSelected = $("cancel-selected");
  const limit = 20;
  const selected = new Set();
  const shown = new Map(); // job id -> its row
  let offset = 0;
  let total = 0;

  const filtersFromUrl = () => {
    const query = new URLSearchParams(location.search);
    const statuses = new Set((query.get("status") || "").split(",").filter(Boolean));
    for (const box of form.querySelectorAll('input[name="status"]')) box.checked = statuses.has(box.value);
    for (const name of ["type", "created_by", "from", "to", "q"]) {
      if (form.elements[name]) form.elements[name].value = query.get(name) || "";
    }
    offset = Math.max(0, Number(query.get("offset")) || 0);
  };

  const pageQuery = () => {
    const query = new URLSearchParams();
    const statuses = [...form.querySelectorAll('input[name="status"]:checked')].map((box) => box.value);
    if (statuses.length) query.set("status", statuses.join(","));
    for (const name of ["type", "created_by", "from", "to", "q"]) {
      const value = form.elements[name]?.value.trim();
      if (value) query.set(name, value);
    }
    if (offset) query.set("offset", String(offset));
    return query;
  };

  const apiQuery = () => {
    const page = pageQuery();
    const query = new URLSearchParams({ limit: String(limit), offset: String(offset), order: "-created_at" });
    for (const name of ["status", "type", "created_by", "q"]) if (page.get(name)) query.set(name, page.get(name));
    // Dates are the operator's local days.
    if (page.get("from")) query.set("created_at[gte]", new Date(`${page.get("from")}T00:00:00`).toISOString());
    if (page.get("to")) query.set("created_at[lte]", new Date(`${page.get("to")}T23:59:59.999`).toISOString());
    return query;
  };

  const renderCounts = (statusCounts) => {
    const active = new Set(pageQuery().get("status")?.split(",") || []);
    counts.replaceChildren(
      ...STATUSES.map((status) =>
        h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              "aria-pressed": active.has(status) ? "true" : "false",
              "data-status": status,
              onclick: () => {
                const box = form.querySelector(`input[name="status"][value="${status}"]`);
                const only = active.size === 1 && active.has(status);
                for (const other of form.querySelectorAll('input[name="status"]')) other.checked = false;
                box.checked = !only;
                offset = 0;
                apply();
              },
            },
            h("span", {}, label(status)),
            h("span", { class: "n" }, statusCounts?.[status] ?? 0),
          ),
        ),
      ),
    );
  };

  const fillRow = (row, job) => {
    const cells = row.cells;
    cells[3].replaceChildren(statusBadge(job.status));
    cells[4].replaceChildren(...progressNodes(job, job.id));
    row.dataset.status = job.status;
  };

  const newRow = (job) => {
    const box = h("input", {
      type: "checkbox",
      "aria-label": `Select ${job.id}`,
      onchange: (event) => {
        if (event.target.checked) selected.add(job.id);
        else selected.delete(job.id);
        cancelSelected.disabled = selected.size === 0;
      },
    });
    box.checked = selected.has(job.id);
    const row = h(
      "tr",
      { "data-job-id": job.id },
      h("td", {}, box),
      h("th", { scope: "row" }, h("a", { href: `/app/jobs/${encodeURIComponent(job.id)}` }, h("code", {}, job.id))),
      h("td", {}, job.type),
      h("td"),
      h("td"),
      h("td", {}, job.created_by || "—"),
      timeCell(job.created_at),
      timeCell(job.updated_at),
    );
    fillRow(row, job);
    return row;
  };

  const render = (page) => {
    total = page.count;
    const jobs = page.jobs;
    const sameOrder = jobs.length === shown.size && jobs.every((job, i) => rows.rows[i]?.dataset.jobId === job.id);
    if (sameOrder) {
      for (const job of jobs) {
        const row = shown.get(job.id);
        fillRow(row, job);
        row.cells[7].replaceChildren(...timeCell(job.updated_at).childNodes);
      }
    } else {
      shown.clear();
      const fresh = jobs.map((job) => {
        const row = newRow(job);
        shown.set(job.id, row);
        return row;
      });
      if (!fresh.length) {
        fresh.push(h("tr", {}, h("td", { colspan: 8 }, "No job matches these filters.")));
      }
      rows.replaceChildren(...fresh);
    }
    renderCounts(page.status_counts);
    const first = total ? offset + 1 : 0;
    const last = Math.min(offset + jobs.length, total);
    $("jobs-caption").textContent = `Jobs ${first}–${last} of ${total}`;
    $("page-info").textContent = `Page ${Math.floor(offset / limit) + 1} of ${Math.max(1, Math.ceil(total / limit))}`;
    $("prev-page").disabled = offset === 0;
    $("next-page").disabled = offset + limit >= total;
  };

  const load = async () => {
    try {
      render(await api("GET", `/admin/jobstream/jobs?${apiQuery()}`));
      $("list-error").textContent = "";
    } catch (error) {
      showError($("list-error"), error);
    }
  };
  const refresh = throttled(load, 1000);

  const apply = () => {
    const query = pageQuery();
    history.pushState(null, "", query.size ? `/app?${query}` : "/app");
    selected.clear();
    cancelSelected.disabled = true;
    selectAll.checked = false;
    load();
  };

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    offset = 0;
    apply();
  });
  $("clear-filters").addEventListener("click", () => {
    form.reset();
    offset = 0;
    apply();
  });
  $("prev-page").addEventListener("click", () => {
    offset = Math.max(0, offset - limit);
    apply();
  });
  $("next-page").addEventListener("click", () => {
    offset += limit;
    apply();
  });
  window.addEventListener("popstate", () => {
    filtersFromUrl();
    load();
  });
  selectAll.addEventListener("change", () => {
    for (const [id, row] of shown) {
      const box = row.cells[0].querySelector("input");
      box.checked = selectAll.checked;
      if (selectAll.checked) selected.add(id);
      else selected.delete(id);
    }
    cancelSelected.disabled = selected.size === 0;
  });
  cancelSelected.addEventListener("click", async () => {
    const ids = [...selected];
    const result = $("bulk-result");
    try {
      const answer = await api("POST", "/admin/jobstream/jobs/cancel", { ids });
      const problems = answer.errors.map((e) => `${e.id}: ${e.message}`);
      result.textContent = `Canceled ${answer.canceled.length} of ${ids.length} jobs.${problems.length ? ` ${problems.join("; ")}` : ""}`;
      selected.clear();
      selectAll.checked = false;
      cancelSelected.disabled = true;
      load();
    } catch (error) {
      showError(result, error);
    }
  });

  filtersFromUrl();
  live({
    status: $("live"),
    refresh,
    onChange: (item) => {
      const row = shown.get(item.id);
      if (row) fillRow(row, { ...item, result: item.result });
      refresh(); // counts, order and jobs new to this page
    },
  });
  load();
}

function jobPage() {
  const id = document.body.dataset.jobId;
  const error = $("job-error");
  const actionResult = $("action-result");
  const buttons = { confirm: $("confirm-job"), cancel: $("cancel-job"), retry: $("retry-job") };
  let shownVersion = null;
  let current = null;

  const pairs = (list, entries) =>
    list.replaceChildren(...entries.flatMap(([name, value]) => [h("dt", {}, name), h("dd", {}, value ?? "—")]));

  const summaryOf = (job) => [
    ["Status", statusBadge(job.status)],
    ["Type", job.type],
    ["Created by", job.created_by],
    ["Dry run", job.dry_run ? "yes" : "no"],
    ["Created", when(job.created_at)],
    ["Pre-processed", when(job.pre_processed_at)],
    ["Confirmed", when(job.confirmed_at)],
    ["Processing since", when(job.processing_at)],
    ["Completed", when(job.completed_at)],
    ["Failed", when(job.failed_at)],
    ["Canceled", when(job.canceled_at)],
    ["Updated", when(job.updated_at)],
  ];

  const render = (detail, events) => {
    const job = detail.batch_job;
    current = job;
    document.title = `Job ${job.id} (${label(job.status)}) · Jobstream`;
    pairs($("summary"), summaryOf(job));
    setProgress($("job-progress"), $("progress-text"), job);
    const lease = detail.lease;
    pairs(
      $("lease"),
      lease
        ? [["Held by worker", h("code", {}, lease.holder)], ["Expires", when(lease.expires_at)], ["Step", lease.step], ["Attempt", lease.attempt]]
        : [["Held by worker", "No worker holds this job now."]],
    );
    // The detail's links, and the history's (batch.created's retry_of, batch.retried's
    // retry_id): the same facts, so either source suffices.
    const retryOf = detail.retry_of || events.find((e) => e.name === "batch.created")?.payload?.retry_of;
    const retries = new Set(detail.retries || []);
    for (const e of events) if (e.name === "batch.retried" && e.payload?.retry_id) retries.add(e.payload.retry_id);
    const jobLink = (other) => h("a", { href: `/app/jobs/${encodeURIComponent(other)}` }, other);
    const links = [];
    if (retryOf) links.push(h("li", {}, "Retry of ", jobLink(retryOf)));
    for (const retry of retries) links.push(h("li", {}, "Retried as ", jobLink(retry)));
    $("retry-links").replaceChildren(...(links.length ? links : [h("li", {}, "None.")]));
    const stats = (job.result?.stat_descriptors || []).map((s) => h("li", {}, h("strong", {}, `${s.name}: `), s.message));
    $("stats").replaceChildren(...(stats.length ? stats : [h("li", {}, "None yet.")]));
    const files = fileLinks(job).map((link) => h("li", {}, link));
    $("files").replaceChildren(...(files.length ? files : [h("li", {}, "No file.")]));
    const attempts = (detail.attempts || []).map((a) =>
      h("tr", {}, h("td", {}, a.step), h("td", { class: "num" }, a.attempt), timeCell(a.at), h("td", {}, a.error || "—")),
    );
    $("attempts").replaceChildren(...(attempts.length ? attempts : [h("tr", {}, h("td", { colspan: 4 }, "No attempt recorded yet."))]));
    $("errors").replaceChildren(...(job.result?.errors || []).map((e) => h("li", {}, typeof e === "string" ? e : JSON.stringify(e))));
    buttons.confirm.disabled = job.status !== "pre_processed";
    buttons.cancel.disabled = FINAL.has(job.status);
    buttons.retry.disabled = job.status !== "failed";
  };

  // A line per event: its scalar fields with their values, the names inside objects.
  const describe = (payload) => {
    const parts = [];
    for (const [key, value] of Object.entries(payload || {})) {
      if (value === null || value === undefined || (Array.isArray(value) && !value.length)) continue;
      if (typeof value !== "object") parts.push(`${key}: ${value}`);
      else if (Array.isArray(value)) parts.push(`${key}: ${value.length} item${value.length === 1 ? "" : "s"}`);
      else parts.push(`${key}: ${Object.keys(value).join(", ") || "{}"}`);
    }
    const text = parts.join("; ");
    return text.length > 160 ? `${text.slice(0, 159)}…` : text || "—";
  };

  const showState = async (version, button) => {
    try {
      const answer = await api("GET", `/admin/jobstream/jobs/${encodeURIComponent(id)}/state?version=${version}`);
      shownVersion = version;
      for (const row of $("timeline").rows) {
        const mine = row.dataset.version === String(version);
        row.classList.toggle("selected", mine);
        row.querySelector("button")?.setAttribute("aria-pressed", mine ? "true" : "false");
      }
      $("state-version").textContent = String(answer.version);
      const job = answer.batch_job;
      pairs($("state-summary"), [["Status", statusBadge(job.status)], ["Progress", progressOf(job) === null ? "—" : `${Math.round(progressOf(job) * 100)}%`], ["Updated", when(job.updated_at)]]);
      $("state-json").textContent = JSON.stringify(job, null, 2);
      $("state-panel").hidden = false;
      $("state-heading").focus();
    } catch (failure) {
      showError(error, failure);
      button?.focus();
    }
  };

  const renderTimeline = (events) => {
    $("timeline").replaceChildren(
      ...events.map((e) =>
        h(
          "tr",
          { "data-version": e.version, class: e.version === shownVersion ? "selected" : null },
          h("td", { class: "num" }, e.version),
          timeCell(e.time ?? e.occurred_at),
          h("td", {}, h("code", {}, e.name)),
          h("td", {}, e.actor || "—"),
          h("td", {}, describe(e.payload)),
          h(
            "td",
            {},
            h(
              "button",
              {
                type: "button",
                "aria-pressed": e.version === shownVersion ? "true" : "false",
                "aria-label": `Show the job as it stood after event ${e.version}`,
                onclick: (event) => showState(e.version, event.currentTarget),
              },
              `State at v${e.version}`,
            ),
          ),
        ),
      ),
    );
  };

  const load = async () => {
    try {
      const path = `/admin/jobstream/jobs/${encodeURIComponent(id)}`;
      const [detail, events] = await Promise.all([api("GET", path), api("GET", `${path}/events`)]);
      render(detail, events.events);
      renderTimeline(events.events);
      error.textContent = "";
    } catch (failure) {
      showError(error, failure);
    }
  };
  const refresh = throttled(load, 300);

  const act = async (button, work, done) => {
    button.disabled = true;
    actionResult.textContent = "";
    try {
      await work();
      actionResult.textContent = done;
    } catch (failure) {
      showError(actionResult, failure);
    }
    await load();
  };
  buttons.confirm.addEventListener("click", () =>
    act(buttons.confirm, () => api("POST", `/admin/batch-jobs/${encodeURIComponent(id)}/confirm`), "Confirmed: the job will now be processed."),
  );
  buttons.cancel.addEventListener("click", () =>
    act(
      buttons.cancel,
      async () => {
        const answer = await api("POST", "/admin/jobstream/jobs/cancel", { ids: [id] });
        if (answer.errors.length) throw new ApiError(400, answer.errors[0].type, answer.errors[0].message);
      },
      "Canceled.",
    ),
  );
  buttons.retry.addEventListener("click", async () => {
    buttons.retry.disabled = true;
    try {
      const answer = await api("POST", `/admin/jobstream/jobs/${encodeURIComponent(id)}/retry`);
      location.assign(`/app/jobs/${encodeURIComponent(answer.batch_job.id)}`);
    } catch (failure) {
      showError(actionResult, failure);
      buttons.retry.disabled = current?.status !== "failed";
    }
  });

  live({ jobId: id, status: $("live"), refresh, onChange: refresh });
  load();
}

function importPage() {
  const form = $("upload-form");
  const status = $("import-status");
  const error = $("import-error");
  const confirmButton = $("confirm-import");
  let jobId = null;
  let stop = () => {};

  const say = (text) => {
    status.textContent = text;
  };
  const jobLink = (id) => $("import-job-link").replaceChildren("Job: ", h("a", { href: `/app/jobs/${encodeURIComponent(id)}` }, id));

  const showPreview = (job) => {
    const result = job.result || {};
    $("preview-stats").replaceChildren(...(result.stat_descriptors || []).map((s) => h("li", {}, h("strong", {}, `${s.name}: `), s.message)));
    $("preview-operations").replaceChildren(
      ...Object.entries(result.operations || {}).map(([operation, n]) => h("tr", {}, h("th", { scope: "row" }, operation.replace(/_/g, " ")), h("td", { class: "num" }, n))),
    );
    $("preview").hidden = false;
    confirmButton.disabled = false;
  };

  const showProblems = (job) => {
    const errors = job.result?.errors || [];
    $("problem-list").replaceChildren(...errors.map((e) => h("li", {}, typeof e === "string" ? e : JSON.stringify(e))));
    $("report-link").replaceChildren(...fileLinks({ ...job, result: { error_report_file_key: job.result?.error_report_file_key } }));
    $("problems").hidden = false;
  };

  const onJob = (job) => {
    if (job.id !== jobId) return;
    if (job.status === "created") say("Checking the file…");
    else if (job.status === "pre_processed") {
      say("The file is valid. Check the preview, then confirm the import.");
      showPreview(job);
    } else if (job.status === "confirmed" || job.status === "processing") {
      say("Importing…");
      $("import-progress").hidden = false;
      setProgress($("import-bar"), $("import-count"), job);
    } else if (job.status === "completed") {
      $("import-progress").hidden = false;
      setProgress($("import-bar"), $("import-count"), job);
      say(`Import completed: ${job.result?.count ?? 0} rows imported.`);
      stop();
    } else if (job.status === "failed") {
      say("The import failed.");
      showProblems(job);
      stop();
    } else if (job.status === "canceled") {
      say("The import was canceled.");
      stop();
    }
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = $("csv-file").files[0];
    error.textContent = "";
    if (!file) {
      error.textContent = "Choose a CSV file first.";
      return;
    }
    stop();
    for (const id of ["preview", "problems", "import-progress"]) $(id).hidden = true;
    $("import-job-link").replaceChildren();
    const submit = form.querySelector("button");
    submit.disabled = true;
    try {
      say(`Uploading ${file.name}…`);
      const body = new FormData();
      body.append("files", file);
      const uploaded = await api("POST", "/admin/uploads/protected", body);
      const created = await api("POST", "/admin/batch-jobs", {
        type: "product-import",
        context: { fileKey: uploaded.uploads[0].key },
        dry_run: true,
      });
      jobId = created.batch_job.id;
      jobLink(jobId);
      say("Checking the file…");
      stop = watchJob(jobId, $("feed-status"), onJob);
    } catch (failure) {
      say("");
      showError(error, failure);
    } finally {
      submit.disabled = false;
    }
  });

  confirmButton.addEventListener("click", async () => {
    confirmButton.disabled = true;
    try {
      const answer = await api("POST", `/admin/batch-jobs/${encodeURIComponent(jobId)}/confirm`);
      $("preview").hidden = true;
      onJob(answer.batch_job);
      stop();
      stop = watchJob(jobId, $("feed-status"), onJob);
    } catch (failure) {
      showError(error, failure);
      confirmButton.disabled = false;
    }
  });
}

function exportPage() {
  const start = $("start-export");
  const status = $("export-status");
  const error = $("export-error");
  let jobId = null;
  let stop = () => {};

  const loadRecent = async () => {
    try {
      const page = await api("GET", "/admin/jobstream/jobs?type=product-export&limit=10&order=-created_at");
      const rows = page.jobs.map((job) =>
        h(
          "tr",
          {},
          h("th", { scope: "row" }, h("a", { href: `/app/jobs/${encodeURIComponent(job.id)}` }, h("code", {}, job.id))),
          h("td", {}, statusBadge(job.status)),
          timeCell(job.created_at),
          h("td", {}, ...(fileLinks(job).length ? fileLinks(job) : ["—"])),
        ),
      );
      $("recent-exports").replaceChildren(...(rows.length ? rows : [h("tr", {}, h("td", { colspan: 4 }, "No export yet."))]));
    } catch (failure) {
      showError(error, failure);
    }
  };

  const onJob = (job) => {
    if (job.id !== jobId) return;
    setProgress($("export-bar"), $("export-count"), job);
    if (job.status === "completed") {
      status.textContent = "The export is ready to download.";
      $("export-download").replaceChildren(...fileLinks(job));
      start.disabled = false;
      stop();
      loadRecent();
    } else if (job.status === "failed" || job.status === "canceled") {
      status.textContent = `The export ${job.status === "failed" ? "failed" : "was canceled"}: ${(job.result?.errors || []).join("; ")}`;
      start.disabled = false;
      stop();
      loadRecent();
    } else {
      status.textContent = `Exporting (${label(job.status).toLowerCase()})…`;
    }
  };

  start.addEventListener("click", async () => {
    start.disabled = true;
    error.textContent = "";
    $("export-download").replaceChildren();
    try {
      const created = await api("POST", "/admin/batch-jobs", { type: "product-export", context: {} });
      jobId = created.batch_job.id;
      $("export-progress").hidden = false;
      status.textContent = "Export started.";
      stop();
      stop = watchJob(jobId, $("feed-status"), onJob);
    } catch (failure) {
      showError(error, failure);
      start.disabled = false;
    }
  });
  loadRecent();
}

const SERIES = ["created", "completed", "failed", "canceled"];
const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

function minuteOf(iso) {
  const date = new Date(iso);
  return date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

function throughputChart(minutes) {
  const width = 720;
  const height = 220;
  const left = 36;
  const bottom = 24;
  const top = 10;
  const plotHeight = height - bottom - top;
  const totals = minutes.map((m) => SERIES.reduce((sum, key) => sum + (m[key] || 0), 0));
  const peak = Math.max(1, ...totals);
  const slot = (width - left - 4) / Math.max(1, minutes.length);
  const chart = svg(
    "svg",
    { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": "chart-title chart-desc" },
    svg("title", { id: "chart-title" }, "Jobs per minute by status, last hour"),
    svg("desc", { id: "chart-desc" }, `${totals.reduce((a, b) => a + b, 0)} job changes in the hour; the busiest minute had ${Math.max(0, ...totals)}. The table below lists every minute.`),
    svg("line", { class: "axis", x1: left, y1: top, x2: left, y2: top + plotHeight }),
    svg("line", { class: "axis", x1: left, y1: top + plotHeight, x2: width, y2: top + plotHeight }),
    svg("text", { x: left - 6, y: top + 10, "text-anchor": "end" }, peak),
    svg("text", { x: left - 6, y: top + plotHeight, "text-anchor": "end" }, 0),
  );
  minutes.forEach((minute, i) => {
    const x = left + 2 + i * slot;
    let y = top + plotHeight;
    const group = svg("g", {}, svg("title", {}, `${minuteOf(minute.minute)}: ${SERIES.map((key) => `${key} ${minute[key] || 0}`).join(", ")}`));
    for (const key of SERIES) {
      const value = minute[key] || 0;
      if (!value) continue;
      const barHeight = (value / peak) * plotHeight;
      y -= barHeight;
      group.append(svg("rect", { class: `bar-${key}`, x: x.toFixed(1), y: y.toFixed(1), width: Math.max(1, slot - 2).toFixed(1), height: barHeight.toFixed(1), "data-series": key }));
    }
    chart.append(group);
    if (i % 15 === 0 || i === minutes.length - 1) {
      chart.append(svg("text", { x: (x + slot / 2).toFixed(1), y: height - 6, "text-anchor": "middle" }, minuteOf(minute.minute)));
    }
  });
  return chart;
}

function systemPage() {
  const status = $("system-status");
  const error = $("system-error");
  $("throughput-legend").replaceChildren(...SERIES.map((key) => h("span", {}, h("span", { class: `swatch swatch-${key}` }), label(key))));

  const render = (system) => {
    const workers = system.workers.map((w) =>
      h(
        "tr",
        {},
        h("th", { scope: "row" }, h("code", {}, w.id)),
        h("td", {}, w.host),
        h("td", { class: "num" }, w.pid),
        timeCell(w.started_at),
        timeCell(w.last_seen),
        h("td", { class: "num" }, w.in_flight),
        h("td", {}, h("span", { class: w.alive ? "alive" : "dead" }, w.alive ? "Alive" : "Silent")),
      ),
    );
    $("workers").replaceChildren(...(workers.length ? workers : [h("tr", {}, h("td", { colspan: 7 }, "No worker has reported."))]));
    const relay = system.relay;
    const nats = system.nats;
    const entries = [
      ["Relay leader", relay ? relay.leader || "none" : "No relay (embedded mode)"],
      ["Relay lag (events)", relay ? relay.lag : "—"],
      ["NATS stream pending", nats?.stream_pending ?? "—"],
      ["NATS consumer pending", nats?.consumer_pending ?? "—"],
    ];
    $("relay").replaceChildren(...entries.flatMap(([name, value]) => [h("dt", {}, name), h("dd", {}, String(value))]));
    $("read-models").replaceChildren(
      ...system.read_models.map((m) =>
        h("tr", {}, h("th", { scope: "row" }, m.name), h("td", { class: "num" }, m.position), h("td", { class: "num" }, m.head), h("td", { class: "num" }, m.lag)),
      ),
    );
    $("throughput-chart").replaceChildren(throughputChart(system.throughput));
    $("throughput-rows").replaceChildren(
      ...system.throughput.map((m) => h("tr", {}, h("th", { scope: "row" }, minuteOf(m.minute)), ...SERIES.map((key) => h("td", { class: "num" }, m[key] || 0)))),
    );
    status.textContent = `Updated ${when(system.now)}; refreshed every 5 seconds.`;
  };

  let timer = null;
  const load = async () => {
    try {
      render(await api("GET", "/admin/jobstream/system"));
      error.textContent = "";
    } catch (failure) {
      showError(error, failure);
      if (failure.status === 403 && timer) clearInterval(timer);
    }
  };
  timer = setInterval(() => {
    if (!document.hidden) load();
  }, 5000);
  load();
}

function logoutButton() {
  const button = $("logout");
  if (!button) return;
  button.addEventListener("click", async () => {
    try {
      await api("DELETE", "/admin/auth");
    } finally {
      location.assign("/app/login");
    }
  });
}

const PAGES = { login: loginPage, jobs: jobsPage, job: jobPage, import: importPage, export: exportPage, system: systemPage };
logoutButton();
PAGES[document.body.dataset.page]?.();
