// Intake public portal: progressive enhancement of the plain upload form.
// Without this script the form posts every file at once and the server answers with a receipt.
// With it: a drop zone, the portal's limits checked before sending, one request per file with
// its own progress bar and a total, and the receipt shown in place. Files above the resumable
// threshold go through tus.js in chunks, survive dropped connections and can be paused.
(function () {
  "use strict";
  var form = document.querySelector("form.upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;

  var input = form.querySelector("input[type=file]");
  var button = form.querySelector("button[type=submit]");
  var maxBytes = Number(form.dataset.maxFileBytes || 0);
  var maxFiles = Number(form.dataset.maxFiles || 20);
  var resumableThreshold = Number(form.dataset.resumableThreshold || 0);
  var resumableChunk = Number(form.dataset.resumableChunk || 8388608);
  var accept = (input.getAttribute("accept") || "").split(",").filter(Boolean).map(function (s) { return s.trim().toLowerCase(); });
  var csrf = document.querySelector('meta[name="csrf-token"]');
  var chosen = [];

  var zone = document.createElement("div");
  zone.className = "drop-zone";
  zone.setAttribute("tabindex", "0");
  zone.setAttribute("role", "button");
  zone.textContent = "Drop files here, or press to choose them";
  input.parentNode.insertBefore(zone, input);
  var list = document.createElement("ul");
  list.className = "upload-list";
  list.setAttribute("aria-live", "polite");
  input.parentNode.appendChild(list);
  var status = document.createElement("p");
  status.setAttribute("role", "status");
  status.className = "upload-status";
  form.appendChild(status);
  var total = document.createElement("progress");
  total.max = 1;
  total.value = 0;
  total.hidden = true;
  total.setAttribute("aria-label", "All files");
  form.appendChild(total);

  function human(bytes) {
    var units = ["B", "KB", "MB", "GB", "TB"], i = 0;
    while (bytes >= 1000 && i < units.length - 1) { bytes /= 1000; i++; }
    return (i === 0 ? bytes : bytes.toFixed(1)) + " " + units[i];
  }

  function problem(file) {
    var ext = "." + (file.name.split(".").pop() || "").toLowerCase();
    if (accept.length && accept.indexOf(ext) < 0) return file.name + ": " + ext + " files are not accepted here.";
    if (maxBytes && file.size > maxBytes) return file.name + " is larger than " + human(maxBytes) + ".";
    return null;
  }

  function choose(files) {
    var errors = [];
    Array.prototype.forEach.call(files, function (file) {
      var p = problem(file);
      if (p) { errors.push(p); return; }
      if (chosen.length >= maxFiles) { errors.push("At most " + maxFiles + " files at a time."); return; }
      var item = document.createElement("li");
      var bar = document.createElement("progress");
      bar.max = 1;
      bar.value = 0;
      bar.setAttribute("aria-label", file.name);
      item.appendChild(document.createTextNode(file.name + " (" + human(file.size) + ") "));
      item.appendChild(bar);
      list.appendChild(item);
      chosen.push({ file: file, bar: bar, item: item });
    });
    status.className = errors.length ? "upload-status form-error" : "upload-status";
    status.setAttribute("role", errors.length ? "alert" : "status");
    status.textContent = errors.join(" ");
  }

  input.addEventListener("change", function () { chosen = []; list.textContent = ""; choose(input.files); });
  zone.addEventListener("click", function () { input.click(); });
  zone.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); } });
  zone.addEventListener("dragover", function (e) { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
  zone.addEventListener("drop", function (e) { e.preventDefault(); zone.classList.remove("over"); choose(e.dataTransfer.files); });

  function fields() {
    var out = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.name && el.type !== "file" && el.type !== "submit" && el.name !== "csrf_token" && el.value !== "") out[el.name] = el.value;
    });
    return out;
  }

  // A file the server received but has not delivered to the owner's storage yet: ask its
  // receipt until the answer is final.
  function follow(label, receipt) {
    if (!receipt) return;
    var tries = 0;
    (function ask() {
      var xhr = new XMLHttpRequest();
      xhr.open("GET", "/api/receipts/" + encodeURIComponent(receipt));
      xhr.setRequestHeader("Accept", "application/json");
      xhr.onload = function () {
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (ignored) {}
        if (body.statusText) label.textContent = body.statusText;
        if (!body.final && ++tries < 900) setTimeout(ask, 2000);
      };
      xhr.onerror = function () { if (++tries < 900) setTimeout(ask, 5000); };
      xhr.send();
    })();
  }

  function arrived(entry, status, receipt) {
    var label = entry.item.querySelector(".upload-state");
    if (!label) {
      label = document.createElement("span");
      label.className = "upload-state";
      entry.item.appendChild(document.createTextNode(" "));
      entry.item.appendChild(label);
    }
    entry.bar.value = 1;
    if (status === "delivering") {
      label.textContent = "received, being delivered to the owner's storage";
      follow(label, receipt);
    } else {
      label.textContent = "arrived";
    }
  }

  // A large file: resumable, in chunks, with a pause button.
  function sendResumable(entry, done) {
    var metadata = fields();
    metadata.filename = entry.file.name;
    metadata.filetype = entry.file.type || "application/octet-stream";
    var state = document.createElement("span");
    state.className = "upload-state";
    var toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "button secondary";
    toggle.textContent = "Pause";
    toggle.setAttribute("aria-label", "Pause " + entry.file.name);
    entry.item.appendChild(document.createTextNode(" "));
    entry.item.appendChild(state);
    entry.item.appendChild(document.createTextNode(" "));
    entry.item.appendChild(toggle);
    var upload = new window.IntakeTus.Upload(entry.file, {
      endpoint: "/api/tus/", metadata: metadata, chunkSize: resumableChunk,
      onProgress: function (sent, size) { entry.bar.value = size ? sent / size : 1; entry.loaded = sent; update(); },
      onState: function (text) { state.textContent = text; },
      onSuccess: function (info) {
        toggle.remove();
        arrived(entry, info.status, info.receipt);
        done(null, info);
      },
      onError: function (message) { toggle.remove(); state.textContent = ""; done(message); }
    });
    toggle.addEventListener("click", function () {
      if (upload.paused) {
        upload.resume();
        toggle.textContent = "Pause";
        toggle.setAttribute("aria-label", "Pause " + entry.file.name);
      } else {
        upload.pause();
        toggle.textContent = "Resume";
        toggle.setAttribute("aria-label", "Resume " + entry.file.name);
      }
    });
    upload.start();
  }

  function send(entry, done) {
    if (window.IntakeTus && resumableThreshold && entry.file.size > resumableThreshold) { sendResumable(entry, done); return; }
    var data = new FormData();
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.name && el.type !== "file" && el.type !== "submit") data.append(el.name, el.value);
    });
    data.append("file", entry.file, entry.file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/upload");
    xhr.setRequestHeader("Accept", "application/json");
    if (csrf) xhr.setRequestHeader("X-CSRF-Token", csrf.content);
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) { entry.bar.value = e.loaded / e.total; entry.loaded = e.loaded; update(); }
    };
    xhr.onload = function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (ignored) {}
      if (xhr.status === 200 && body.success) {
        var file = (body.files && body.files[0]) || {};
        arrived(entry, file.status, file.receipt);
        done(null, body);
      } else {
        done((body.error && body.error.message) || ("The upload failed (" + xhr.status + ")."));
      }
    };
    xhr.onerror = function () { done("The connection was lost. Try again."); };
    xhr.send(data);
  }

  function update() {
    var size = 0, loaded = 0;
    chosen.forEach(function (c) { size += c.file.size; loaded += Math.min(c.loaded || 0, c.file.size); });
    total.value = size ? loaded / size : 0;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!chosen.length) { choose(input.files); }
    if (!chosen.length) { status.className = "upload-status form-error"; status.setAttribute("role", "alert"); status.textContent = "Choose at least one file."; return; }
    var required = form.querySelectorAll("input[required]:not([type=file])");
    for (var i = 0; i < required.length; i++) {
      if (!required[i].value.trim()) { required[i].focus(); status.className = "upload-status form-error"; status.setAttribute("role", "alert"); status.textContent = "Fill in the required fields."; return; }
    }
    button.disabled = true;
    total.hidden = false;
    var index = 0, arrived = [], failures = [];
    (function next() {
      if (index >= chosen.length) {
        button.disabled = false;
        status.className = failures.length ? "upload-status form-error" : "upload-status";
        status.setAttribute("role", failures.length ? "alert" : "status");
        status.textContent = (arrived.length ? arrived.length + " file(s) arrived: " + arrived.join(", ") + ". " : "") + failures.join(" ");
        if (!failures.length) { form.reset(); chosen = []; }
        return;
      }
      var entry = chosen[index++];
      send(entry, function (error, body) {
        if (error) failures.push(entry.file.name + ": " + error); else arrived.push(body.fileName);
        next();
      });
    })();
  });
})();
