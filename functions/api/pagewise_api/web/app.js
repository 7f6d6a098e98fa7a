// Pagewise web page: sign in with a token, upload straight to S3 (presigned POST), follow the
// job, download the translated PDF. No build step, no dependencies.
//
// Every URL is relative to the page: behind API Gateway the API lives under a stage prefix
// (`/prod`, or `/_aws/execute-api/{api}/{stage}` on LocalStack) that only the browser knows.

const TOKEN_KEY = "pagewise.token";
const TERMINAL = new Set(["completed", "failed"]);
const STATUS_LABELS = {
  awaiting_upload: "Waiting for the upload",
  queued: "Queued",
  processing: "Preparing the document",
  ocr_started: "Reading the pages",
  ocr_completed: "Pages read",
  translation_started: "Translating the pages",
  translation_completed: "Pages translated",
  summarising: "Writing the summary",
  completed: "Completed",
  failed: "Failed",
};
const READING = new Set(["queued", "processing", "ocr_started"]);
const CONTENT_TYPES = {
  pdf: "application/pdf",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  tif: "image/tiff",
  tiff: "image/tiff",
};
const ACCEPTED = new Set(Object.values(CONTENT_TYPES));

const $ = (id) => document.getElementById(id);
const apiUrl = (path) => new URL(path, document.baseURI).href;

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const state = {
  token: sessionStorage.getItem(TOKEN_KEY),
  file: null,
  nextCursor: null,
  job: null, // {id, generation, timer, openedAt, status, result, pagesKey}
  generation: 0,
  jobsTicket: 0, // only the answer to the latest list request is shown
};

// -- the API -------------------------------------------------------------------------------

async function api(path, { method = "GET", body, auth = true } = {}) {
  const headers = { Accept: "application/json" };
  if (auth && state.token) headers.Authorization = `Bearer ${state.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(apiUrl(path), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "network_error", "The API cannot be reached; check the connection and try again.");
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const code = (data && data.error_code) || `http_${response.status}`;
    const message = (data && data.message) || text.slice(0, 300) || response.statusText;
    if (response.status === 401 && auth) {
      signOut("The API refused the token (expired, or not valid for this API). Sign in again.");
    }
    throw new ApiError(response.status, code, message);
  }
  return data;
}

function describe(error) {
  if (error instanceof ApiError) return `${error.code}: ${error.message}`;
  return String(error && error.message ? error.message : error);
}

function showError(id, message) {
  const box = $(id);
  box.textContent = message || "";
  box.hidden = !message;
}

// -- signing in ----------------------------------------------------------------------------

function tokenSubject(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(part + "=".repeat((4 - (part.length % 4)) % 4)));
    return typeof claims.sub === "string" ? claims.sub : "?";
  } catch {
    return "?";
  }
}

async function signIn(raw) {
  const token = raw.trim().replace(/^Bearer\s+/i, "");
  if (token.split(".").length !== 3) {
    showError("sign-in-error", "That is not a JWT: a token has three parts separated by dots.");
    $("token").focus();
    return;
  }
  state.token = token;
  sessionStorage.setItem(TOKEN_KEY, token);
  await enterSignedIn({ focus: true });
}

function signOut(message = "") {
  stopPolling();
  state.token = null;
  state.job = null;
  sessionStorage.removeItem(TOKEN_KEY);
  for (const id of ["who", "upload", "job", "jobs"]) $(id).hidden = true;
  $("job-list").replaceChildren();
  $("sign-in").hidden = false;
  $("token").value = "";
  showError("sign-in-error", message);
  $("token").focus();
}

async function enterSignedIn({ focus = false } = {}) {
  showError("sign-in-error", "");
  try {
    // The first authenticated call also checks the token.
    await refreshJobs();
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) {
      $("sign-in").hidden = false;
      showError("sign-in-error", describe(error));
    }
    return;
  }
  $("who-name").textContent = tokenSubject(state.token);
  $("sign-in").hidden = true;
  for (const id of ["who", "upload", "jobs"]) $(id).hidden = false;
  const match = /^#job=([0-9a-f]{24})$/.exec(location.hash);
  if (match) {
    openJob(match[1], { focus });
  } else if (focus) {
    $("upload-heading").setAttribute("tabindex", "-1");
    $("upload-heading").focus();
  }
}

async function devToken(event) {
  event.preventDefault();
  const subject = $("dev-subject").value.trim();
  try {
    const answer = await api("api/v1/dev/tokens", { method: "POST", body: { subject }, auth: false });
    await signIn(answer.token);
  } catch (error) {
    showError("sign-in-error", describe(error));
  }
}

// -- choosing and uploading a file -----------------------------------------------------------

function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function contentTypeOf(file) {
  const type = (file.type || "").toLowerCase();
  if (ACCEPTED.has(type)) return type;
  const extension = file.name.includes(".") ? file.name.split(".").pop().toLowerCase() : "";
  return CONTENT_TYPES[extension] || null;
}

function choose(file) {
  state.file = file || null;
  $("file-chosen").textContent = file ? `Chosen: ${file.name} (${formatBytes(file.size)})` : "";
  showError("upload-error", "");
  if (file) $("upload-progress-box").hidden = true;
}

function postToStorage(upload, file, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
    form.append("file", file); // last: S3 ignores fields after the file
    const request = new XMLHttpRequest();
    request.open("POST", upload.url);
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    request.addEventListener("load", () => {
      if (request.status >= 200 && request.status < 300) {
        resolve();
        return;
      }
      const xml = new DOMParser().parseFromString(request.responseText || "<x/>", "application/xml");
      const code = xml.querySelector("Code")?.textContent || `http_${request.status}`;
      const message = xml.querySelector("Message")?.textContent || "Storage refused the upload.";
      reject(new ApiError(request.status, `upload_refused (${code})`, message));
    });
    request.addEventListener("error", () =>
      reject(new ApiError(0, "upload_failed", "The upload did not reach storage (network error, or blocked)."))
    );
    request.addEventListener("abort", () => reject(new ApiError(0, "upload_aborted", "The upload was stopped.")));
    request.send(form);
  });
}

function showUploadProgress(loaded, total) {
  const percent = total ? Math.floor((loaded / total) * 100) : 0;
  $("upload-progress").value = percent;
  // Spoken at most every quarter, not on every progress event.
  const text = $("upload-progress-text");
  const step = Math.floor(percent / 25) * 25;
  if (text.dataset.step !== String(step)) {
    text.dataset.step = String(step);
    text.textContent = `Uploaded ${step}% of ${formatBytes(total)}`;
  }
}

async function upload(event) {
  event.preventDefault();
  showError("upload-error", "");
  const file = state.file;
  if (!file) {
    showError("upload-error", "Choose a file first.");
    $("file").focus();
    return;
  }
  const contentType = contentTypeOf(file);
  if (!contentType) {
    showError("upload-error", `${file.name}: only PDF, PNG, JPEG and TIFF files can be translated.`);
    $("file").focus();
    return;
  }
  const button = $("upload-button");
  button.disabled = true;
  const progressText = $("upload-progress-text");
  progressText.dataset.step = "";
  progressText.textContent = "Creating the job…";
  $("upload-progress").value = 0;
  $("upload-progress-box").hidden = false;
  let created = null;
  try {
    const body = {
      file_name: file.name,
      content_type: contentType,
      file_size: file.size,
      layout: $("layout").value,
    };
    if ($("source-language").value) body.source_language = $("source-language").value;
    if ($("glossary").value.trim()) body.glossary = $("glossary").value.trim();
    if ($("max-cost").value !== "") body.max_cost = Number($("max-cost").value);
    created = await api("api/v1/jobs", { method: "POST", body });
    await postToStorage(created.upload, file, showUploadProgress);
    showUploadProgress(file.size, file.size);
    progressText.textContent = "Uploaded.";
    choose(null);
    $("file").value = "";
    openJob(created.job_id, { focus: true, file: file.name });
    refreshJobs().catch(() => {});
  } catch (error) {
    $("upload-progress-box").hidden = true;
    showError("upload-error", describe(error));
    if (created) {
      // The file never arrived: cancel the job rather than leave it waiting for its link to expire.
      api(`api/v1/jobs/${created.job_id}`, { method: "DELETE" }).catch(() => {});
    }
  } finally {
    button.disabled = false;
  }
}

// -- following a job -------------------------------------------------------------------------

function stopPolling() {
  if (state.job && state.job.timer) clearTimeout(state.job.timer);
}

function openJob(id, { focus = false, file = "" } = {}) {
  stopPolling();
  state.generation += 1;
  state.job = { id, generation: state.generation, timer: null, openedAt: Date.now(), status: null, result: null, pagesKey: "" };
  history.replaceState(null, "", `#job=${id}`);
  $("job").hidden = false;
  $("job-id").textContent = id;
  $("job-file").textContent = file;
  for (const part of ["job-error", "job-actions", "job-summary", "job-pages"]) $(part).hidden = true;
  $("job-status-label").textContent = "Loading…";
  $("job-status-name").textContent = "";
  $("job-status-name").dataset.status = "";
  $("job-status").dataset.status = "";
  $("job-status-badge").dataset.state = "";
  setMeter("pages-read", 0, null, "", true);
  setMeter("pages-translated", 0, null, "", true);
  markCurrentInList();
  if (focus) $("job-heading").focus();
  poll(state.generation);
}

function pollDelay() {
  // Every second for the first two minutes, then every three.
  return Date.now() - state.job.openedAt < 120_000 ? 1000 : 3000;
}

async function poll(generation) {
  const job = state.job;
  if (!job || job.generation !== generation) return;
  let status;
  try {
    status = await api(`api/v1/jobs/${job.id}`);
  } catch (error) {
    if (job.generation !== state.generation || !state.token) return;
    if (error instanceof ApiError && error.status === 404) {
      showJobError("not_found", "There is no such job (or it belongs to someone else).");
      $("job-status-label").textContent = "Not found";
      return;
    }
    // A transient failure: say so, and keep trying.
    $("job-status-label").textContent = `Cannot reach the API (${describe(error)}); retrying…`;
    job.timer = setTimeout(() => poll(generation), 3000);
    return;
  }
  if (job.generation !== state.generation) return;
  const name = status.details.processing_status;
  const changed = job.status !== name;
  if (name === "completed" && !job.result) {
    try {
      // A long document's result comes in slices: follow next_page_from to the end.
      const result = await api(`api/v1/jobs/${job.id}/result`);
      while (result.next_page_from) {
        const more = await api(`api/v1/jobs/${job.id}/result?page_from=${result.next_page_from}`);
        result.page_results.push(...more.page_results);
        result.previews = (result.previews || []).concat(more.previews || []);
        result.next_page_from = more.next_page_from;
      }
      job.result = result;
    } catch {
      job.result = null; // the page list falls back to the counters
    }
    if (job.generation !== state.generation) return;
  }
  renderJob(status, job.result);
  job.status = name;
  job.lastDetails = status.details;
  if (!TERMINAL.has(name)) {
    job.timer = setTimeout(() => poll(generation), pollDelay());
  } else if (changed) {
    refreshJobs().catch(() => {});
  }
}

function setMeter(id, value, total, text, indeterminate = false) {
  const meter = $(id);
  if (total) {
    meter.max = total;
    meter.value = value;
  } else if (indeterminate) {
    meter.removeAttribute("value"); // until the pages are counted
  } else {
    meter.max = 1;
    meter.value = 0;
  }
  $(`${id}-text`).textContent = text;
}

function showJobError(code, message) {
  $("job-error-code").textContent = code || "error";
  $("job-error-message").textContent = message || "No detail was given.";
  $("job-error").hidden = false;
}

function renderJob(status, result) {
  const details = status.details;
  const name = details.processing_status;
  $("job-file").textContent = details.file_name;
  if ($("job-status-name").dataset.status !== name) {
    // Only on a change: the status line is a live region.
    $("job-status-label").textContent = STATUS_LABELS[name] || name;
    $("job-status-name").textContent = name;
    $("job-status-name").dataset.status = name;
    $("job-status").dataset.status = name;
    $("job-status-badge").dataset.state = name;
  }
  const total = details.total_pages;
  const counted = (done) => (total ? `${done} of ${total}` : name === "failed" ? "not counted" : "counting the pages…");
  const running = !TERMINAL.has(name);
  setMeter("pages-read", details.current_page, total, counted(details.current_page), running);
  setMeter("pages-translated", details.pages_translated, total, counted(details.pages_translated), running);
  updateListItem(status.job_id, details);

  if (name === "failed") showJobError(details.error_code, details.error_message);
  else $("job-error").hidden = true;

  $("job-actions").hidden = !(name === "completed" && status.download_url);
  renderDownloads(result);

  const summary = (result && result.summary) || details.summary;
  $("job-summary").hidden = !summary;
  $("summary-text").textContent = summary || "";
  $("summary-note").textContent = (result && result.summary_info && result.summary_info.note) || "";
  renderFacts(result && result.summary_cited);

  renderPages(details, result);
}

const FACT_LABELS = {
  parties: "Parties",
  dates: "Dates and deadlines",
  amounts: "Amounts",
  obligations: "Obligations",
  termination: "Termination",
  governing_law: "Governing law",
  jurisdiction: "Jurisdiction",
};

// The verified key facts, each with "p. N" and its quote; unverified ones are only counted.
function renderFacts(cited) {
  const facts = cited && Array.isArray(cited.facts) ? cited.facts.filter((fact) => fact.verified) : [];
  $("key-facts-box").hidden = !cited || (facts.length === 0 && !cited.facts_unverified);
  if (!cited) return;
  const notes = [cited.facts_label || ""];
  if (cited.facts_unverified) {
    notes.push(`${cited.facts_unverified} more fact(s) not shown: their quote was not found on the page they cite.`);
  }
  $("key-facts-note").textContent = notes.filter(Boolean).join(" ");
  $("key-facts").replaceChildren(
    ...facts.map((fact) => {
      const item = document.createElement("li");
      const label = document.createElement("strong");
      label.textContent = `${FACT_LABELS[fact.category] || fact.category}: `;
      const quote = document.createElement("q");
      quote.textContent = fact.quote;
      item.append(label, `${fact.text} (p. ${fact.page}) `, quote);
      return item;
    }),
  );
}

function pageStateFromCounters(page, details) {
  const name = details.processing_status;
  if (page <= details.pages_translated) return ["translated", "Translated"];
  if (page <= details.current_page) return ["read", name === "failed" ? "Read, not translated" : "Read"];
  if (name === "failed") return ["failed", "Not processed"];
  if (READING.has(name)) return ["reading", "Reading"];
  return ["waiting", "Waiting"];
}

function textBlock(label, text) {
  const block = document.createElement("details");
  const summary = document.createElement("summary");
  summary.textContent = label;
  const body = document.createElement("div");
  body.className = "text";
  body.textContent = text;
  block.append(summary, body);
  return block;
}

// As the PDF says it (documents/render/content.py, page_marks).
function pageMarks(page) {
  const marks = [];
  const terms = (list) => list.map((entry) => `${entry.source} → ${entry.target}`).join("; ");
  if (page.continuation) {
    marks.push(`Continuation: this page begins with the end of a sentence from page ${page.page - 1}, translated with page ${page.page - 1}.`);
  }
  if (page.completion) marks.push(`The last sentence continues on page ${page.page + 1}; it is translated here whole.`);
  if (page.glossary_applied && page.glossary_applied.length) marks.push(`Glossary terms used: ${terms(page.glossary_applied)}.`);
  if (page.glossary_missed && page.glossary_missed.length) marks.push(`Glossary terms not used: ${terms(page.glossary_missed)}.`);
  return marks;
}

// The other outputs of a finished job (GET .../download?variant=...), as /result lists them.
const VARIANT_LABELS = {
  overlay: "Download the overlay PDF (English in place)",
  searchable: "Download the searchable original",
  docx: "Download the Word document",
};

function renderDownloads(result) {
  const holder = $("other-downloads");
  const outputs = result && Array.isArray(result.outputs) ? result.outputs : [];
  const offered = outputs.filter((output) => VARIANT_LABELS[output.variant]);
  const key = offered.map((output) => output.variant).join(",");
  if (holder.dataset.key === key) return;
  holder.dataset.key = key;
  holder.replaceChildren(
    ...offered.map((output) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.dataset.variant = output.variant;
      button.textContent = VARIANT_LABELS[output.variant];
      button.addEventListener("click", () => downloadVariant(output.variant, button));
      return button;
    }),
  );
}

function previewPair(number, preview) {
  // The page's source and its overlay side by side; the browser loads them when scrolled to.
  const pair = document.createElement("div");
  pair.className = "preview-pair";
  for (const [kind, label] of [["source", "Original"], ["overlay", "English in place"]]) {
    const figure = document.createElement("figure");
    const image = document.createElement("img");
    image.loading = "lazy"; // before src, or the browser starts loading at once
    image.decoding = "async";
    image.alt = `Page ${number}, ${label.toLowerCase()}`;
    image.src = preview[`${kind}_url`];
    const caption = document.createElement("figcaption");
    caption.textContent = label;
    figure.append(image, caption);
    pair.append(figure);
  }
  return pair;
}

function renderPages(details, result) {
  const list = $("page-list");
  const pages = result && Array.isArray(result.page_results) ? result.page_results : null;
  const total = details.total_pages || 0;
  const key = pages
    ? "result"
    : JSON.stringify([total, details.current_page, details.pages_translated, details.processing_status]);
  if (key === state.job.pagesKey) return; // unchanged: keep the open <details> as they are
  state.job.pagesKey = key;
  const items = [];
  if (pages) {
    const previews = new Map(((result && result.previews) || []).map((preview) => [preview.page, preview]));
    for (const page of pages) {
      const item = document.createElement("li");
      const head = document.createElement("div");
      head.className = "page-head";
      const title = document.createElement("strong");
      title.textContent = `Page ${page.page}`;
      const stateLabel = document.createElement("span");
      stateLabel.className = "page-state";
      stateLabel.dataset.state = page.translated === false ? "done" : "translated";
      stateLabel.textContent = page.translated === false ? "Done (source text, not translated)" : "Translated";
      const source = document.createElement("span");
      source.className = "hint";
      const how =
        page.source === "ocr"
          ? `OCR${page.ocr_confidence != null ? `, ${Math.round(page.ocr_confidence)}% confidence` : ""}`
          : "text layer";
      source.textContent = page.language ? `${how}, ${page.language}` : how;
      head.append(title, stateLabel, source);
      item.append(head);
      if (page.translation_note) {
        const note = document.createElement("p");
        note.className = "hint";
        note.textContent = page.translation_note;
        item.append(note);
      }
      for (const mark of pageMarks(page)) {
        const line = document.createElement("p");
        line.className = "hint";
        line.textContent = mark;
        item.append(line);
      }
      if (previews.has(page.page)) item.append(previewPair(page.page, previews.get(page.page)));
      if (page.plain_english) item.append(textBlock(`Plain English, page ${page.page}`, page.plain_english));
      if (page.legal_english) item.append(textBlock(`Legal English, page ${page.page}`, page.legal_english));
      if (page.ocr_text) item.append(textBlock(`Source text, page ${page.page}`, page.ocr_text));
      items.push(item);
    }
    $("pages-note").textContent = "";
  } else {
    for (let page = 1; page <= total; page += 1) {
      const [code, label] = pageStateFromCounters(page, details);
      const item = document.createElement("li");
      const head = document.createElement("div");
      head.className = "page-head";
      const title = document.createElement("strong");
      title.textContent = `Page ${page}`;
      const stateLabel = document.createElement("span");
      stateLabel.className = "page-state";
      stateLabel.dataset.state = code;
      stateLabel.textContent = label;
      head.append(title, stateLabel);
      item.append(head);
      items.push(item);
    }
    $("pages-note").textContent =
      "Pages are processed in parallel: until the job completes, these states come from the counts of pages read and translated.";
  }
  list.replaceChildren(...items);
  $("job-pages").hidden = items.length === 0;
}

async function download() {
  const button = $("download");
  button.disabled = true;
  try {
    // A fresh link each time: the presigned URL is short-lived.
    const status = await api(`api/v1/jobs/${state.job.id}`);
    if (!status.download_url) throw new ApiError(404, "not_ready", "The translated PDF is not ready.");
    clickLink(status.download_url);
  } catch (error) {
    showJobError(error.code || "download_failed", error.message);
  } finally {
    button.disabled = false;
  }
}

async function downloadVariant(variant, button) {
  button.disabled = true;
  try {
    // Fresh links each time: the presigned URLs are short-lived.
    const result = await api(`api/v1/jobs/${state.job.id}/result`);
    const output = (result.outputs || []).find((candidate) => candidate.variant === variant);
    if (!output || !output.download_url) throw new ApiError(404, "not_ready", `The ${variant} output is not ready.`);
    clickLink(output.download_url);
  } catch (error) {
    showJobError(error.code || "download_failed", error.message);
  } finally {
    button.disabled = false;
  }
}

function clickLink(url) {
  const link = document.createElement("a");
  link.href = url;
  link.download = "";
  link.rel = "noopener";
  document.body.append(link);
  link.click();
  link.remove();
}

// -- the list of jobs ------------------------------------------------------------------------

function markCurrentInList() {
  const id = state.job && state.job.id;
  for (const button of $("job-list").querySelectorAll("button")) {
    if (button.dataset.jobId === id) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
  }
}

function describeListItem(button, job) {
  const status = button.querySelector(".state");
  status.dataset.state = job.status;
  status.textContent = STATUS_LABELS[job.status] || job.status;
  const uncounted = TERMINAL.has(job.status) ? "pages not counted" : "pages not counted yet";
  const pages = job.total_pages ? `${job.current_page} of ${job.total_pages} pages` : uncounted;
  button.querySelector(".meta").textContent = `${new Date(job.created_at).toLocaleString()} · ${pages}`;
}

function updateListItem(id, details) {
  // The job on show keeps its entry in the list current, without listing again.
  const button = $("job-list").querySelector(`button[data-job-id="${id}"]`);
  if (!button) return;
  describeListItem(button, {
    status: details.processing_status,
    current_page: details.current_page,
    total_pages: details.total_pages,
    created_at: details.created_at,
  });
}

function jobListItem(job) {
  const item = document.createElement("li");
  const button = document.createElement("button");
  button.type = "button";
  button.dataset.jobId = job.job_id;
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = job.file_name;
  const status = document.createElement("span");
  status.className = "state";
  const meta = document.createElement("span");
  meta.className = "meta";
  button.append(name, status, meta);
  describeListItem(button, job);
  button.addEventListener("click", () => openJob(job.job_id, { focus: true, file: job.file_name }));
  item.append(button);
  return item;
}

async function refreshJobs({ more = false } = {}) {
  const query = new URLSearchParams({ limit: "10" });
  if (more && state.nextCursor) query.set("cursor", state.nextCursor);
  const ticket = ++state.jobsTicket;
  let page;
  try {
    page = await api(`api/v1/jobs?${query}`);
  } catch (error) {
    if (ticket === state.jobsTicket) showError("jobs-error", describe(error));
    throw error;
  }
  if (ticket !== state.jobsTicket) return; // a later request answers instead
  showError("jobs-error", "");
  const items = page.jobs.map(jobListItem);
  if (more) $("job-list").append(...items);
  else $("job-list").replaceChildren(...items);
  state.nextCursor = page.next_cursor;
  $("jobs-more").hidden = !page.next_cursor;
  $("jobs-empty").hidden = $("job-list").children.length > 0;
  markCurrentInList();
  if (state.job && state.job.lastDetails) updateListItem(state.job.id, state.job.lastDetails);
}

// -- wiring ----------------------------------------------------------------------------------

function wire() {
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    signIn($("token").value);
  });
  $("dev-token-form").addEventListener("submit", devToken);
  $("sign-out").addEventListener("click", () => signOut(""));
  $("upload-form").addEventListener("submit", upload);
  $("file").addEventListener("change", () => choose($("file").files[0]));
  $("download").addEventListener("click", download);
  $("jobs-refresh").addEventListener("click", () => refreshJobs().catch(() => {}));
  $("jobs-more").addEventListener("click", () => refreshJobs({ more: true }).catch(() => {}));

  const zone = $("drop-zone");
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (event) => {
      event.preventDefault();
      zone.classList.add("dragging");
    });
  }
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (file) choose(file);
  });
  // A file dropped beside the zone must not make the browser leave the page to open it.
  for (const type of ["dragover", "drop"]) {
    window.addEventListener(type, (event) => event.preventDefault());
  }
}

async function start() {
  wire();
  try {
    const config = await api("web/config.json", { auth: false });
    $("dev-token-form").hidden = !config.dev_tokens;
  } catch {
    $("dev-token-form").hidden = true;
  }
  if (state.token) {
    await enterSignedIn();
  } else {
    $("sign-in").hidden = false;
  }
  document.body.dataset.ready = "true";
}

start();
