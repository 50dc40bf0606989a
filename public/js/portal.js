// Intake public portal: progressive enhancement of the plain upload form.
// Without this script the form posts every file at once and the server answers with a receipt.
// With it: one control to choose or drop files (one tab stop), the chosen files listed with their
// sizes and a Remove button, the portal's types, sizes and count checked before anything is sent
// (nothing is sent while one file is refused), one request per file with its own progress bar and
// a total, and then the server's own receipt in place of the form, with "Send more files" to bring
// the form back. Files above the resumable threshold go through tus.js in chunks.
(function () {
  "use strict";

  // A file the server received but has not delivered to the owner's storage yet: ask its
  // receipt until the answer is final.
  function follow(label, receipt) {
    if (!receipt || !window.XMLHttpRequest) return;
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

  // Every file of a receipt on the page follows its delivery state.
  function followReceipt(root) {
    Array.prototype.forEach.call(root.querySelectorAll("li[data-receipt]"), function (item) {
      var label = item.querySelector(".receipt-status");
      if (label) follow(label, item.getAttribute("data-receipt"));
    });
  }
  followReceipt(document);

  var form = document.querySelector("form.upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData || !window.DOMParser) return;

  var input = form.querySelector("input[type=file]");
  var button = form.querySelector("button[type=submit]");
  var maxBytes = Number(form.dataset.maxFileBytes || 0);
  var maxFileText = form.dataset.maxFile || "";
  var maxFiles = Number(form.dataset.maxFiles || 20);
  var accept = (form.dataset.accept || "").split(",").filter(Boolean);
  var acceptWords = form.dataset.acceptWords || "";
  var slug = form.dataset.slug || "";
  var resumableThreshold = Number(form.dataset.resumableThreshold || 0);
  var resumableChunk = Number(form.dataset.resumableChunk || 8388608);
  var csrf = document.querySelector('meta[name="csrf-token"]');
  var chosen = [];
  var sending = false;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  // One control: the drop zone is a button that opens the file picker (Enter and Space as any
  // button), takes dropped files and carries the field's label; the native input stays in the
  // form for the picker only, out of the tab order.
  var label = form.querySelector("label[for=files]");
  var zone = el("button", "drop-zone");
  zone.type = "button";
  zone.id = "files-zone";
  var zoneText = el("span", "drop-zone-text");
  zoneText.id = "files-zone-text";
  zoneText.appendChild(el("strong", null, "Choose files"));
  zoneText.appendChild(document.createTextNode(" or drop them here"));
  zone.appendChild(zoneText);
  zone.setAttribute("aria-labelledby", "files-label files-zone-text");
  zone.setAttribute("aria-describedby", "files-hint files-problems");
  if (label) label.htmlFor = zone.id;
  input.parentNode.insertBefore(zone, input);
  input.classList.add("visually-hidden");
  input.tabIndex = -1;
  input.setAttribute("aria-hidden", "true");
  input.required = false;

  var list = el("ul", "upload-list");
  list.setAttribute("aria-label", "Chosen files");
  input.parentNode.appendChild(list);
  var problemsBox = el("div", "upload-problems");
  problemsBox.id = "files-problems";
  problemsBox.setAttribute("role", "alert");
  input.parentNode.appendChild(problemsBox);
  var status = el("p", "upload-status");
  status.setAttribute("role", "status");
  form.appendChild(status);
  var total = el("progress");
  total.max = 1;
  total.value = 0;
  total.hidden = true;
  total.setAttribute("aria-label", "All files");
  form.appendChild(total);

  // The one size format (ByteSize.description): decimal units, three significant digits at most.
  function human(bytes) {
    var units = ["B", "KB", "MB", "GB", "TB"], i = 0, value = bytes;
    while (value >= 1000 && i < units.length - 1) { value /= 1000; i++; }
    if (i === 0) return bytes + " B";
    var places = value >= 100 ? 0 : value >= 10 ? 1 : 2;
    var text = value.toFixed(places);
    if (Number(text) >= 1000 && i < units.length - 1) return "1 " + units[i + 1];
    if (places > 0) text = text.replace(/0+$/, "").replace(/\.$/, "");
    return text + " " + units[i];
  }

  // Why the portal would refuse this file, in the server's words; null if it takes it.
  function problem(file) {
    var dot = file.name.lastIndexOf(".");
    var ext = dot > 0 ? file.name.slice(dot + 1).toLowerCase() : "";
    if (accept.length && !ext) return "“" + file.name + "” has no file extension; this portal accepts " + acceptWords + ".";
    if (accept.length && accept.indexOf(ext) < 0) return "“" + file.name + "”: ." + ext + " files are not accepted here. This portal accepts " + acceptWords + ".";
    if (maxBytes && file.size > maxBytes) return "“" + file.name + "” is " + human(file.size) + ", larger than the " + maxFileText + " this portal takes.";
    return null;
  }

  // Every reason not to send now: each refused file by name, and too many files.
  function problems() {
    var out = [];
    chosen.forEach(function (c) { if (c.problem) out.push(c.problem); });
    if (chosen.length > maxFiles) {
      out.push("You chose " + chosen.length + " files; this portal takes at most " + maxFiles + " at a time. Remove " + (chosen.length - maxFiles) + ".");
    }
    return out;
  }

  function showProblems() {
    var found = problems();
    problemsBox.textContent = "";
    if (found.length) {
      problemsBox.appendChild(el("p", null, "Nothing has been sent. " + (found.length === 1 ? "Remove this file or choose another:" : "Fix these first:")));
      var ul = el("ul");
      found.forEach(function (text) { ul.appendChild(el("li", null, text)); });
      problemsBox.appendChild(ul);
    }
    problemsBox.className = found.length ? "upload-problems form-error" : "upload-problems";
    return found;
  }

  function remove(entry) {
    chosen.splice(chosen.indexOf(entry), 1);
    entry.item.remove();
    showProblems();
    zone.focus();
  }

  function add(files) {
    if (sending) return;
    Array.prototype.forEach.call(files, function (file) {
      var entry = { file: file, problem: problem(file) };
      var item = el("li", entry.problem ? "upload-item refused" : "upload-item");
      item.appendChild(el("span", "upload-name", file.name));
      item.appendChild(document.createTextNode(" "));
      item.appendChild(el("span", "upload-size", human(file.size)));
      if (entry.problem) {
        item.appendChild(document.createTextNode(" "));
        item.appendChild(el("span", "upload-refusal", "refused"));
      }
      var bar = el("progress");
      bar.max = 1;
      bar.value = 0;
      bar.hidden = true;
      bar.setAttribute("aria-label", "Progress of " + file.name);
      item.appendChild(document.createTextNode(" "));
      item.appendChild(bar);
      var drop = el("button", "button secondary upload-remove", "Remove");
      drop.type = "button";
      drop.setAttribute("aria-label", "Remove " + file.name);
      drop.addEventListener("click", function () { remove(entry); });
      item.appendChild(document.createTextNode(" "));
      item.appendChild(drop);
      entry.item = item;
      entry.bar = bar;
      entry.remove = drop;
      list.appendChild(item);
      chosen.push(entry);
    });
    showProblems();
    status.textContent = "";
  }

  input.addEventListener("change", function () { add(input.files); input.value = ""; });
  zone.addEventListener("click", function () { if (!sending) input.click(); });
  zone.addEventListener("dragover", function (e) { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
  zone.addEventListener("drop", function (e) { e.preventDefault(); zone.classList.remove("over"); add(e.dataTransfer.files); });

  function fields() {
    var out = {};
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.name && field.type !== "file" && field.type !== "submit" && field.name !== "csrf_token" && field.value !== "") out[field.name] = field.value;
    });
    return out;
  }

  function stateOf(entry) {
    var label = entry.item.querySelector(".upload-state");
    if (!label) {
      label = el("span", "upload-state");
      entry.item.appendChild(document.createTextNode(" "));
      entry.item.appendChild(label);
    }
    return label;
  }

  // A large file: resumable, in chunks, with a pause button.
  function sendResumable(entry, done) {
    var metadata = fields();
    metadata.filename = entry.file.name;
    metadata.filetype = entry.file.type || "application/octet-stream";
    var state = stateOf(entry);
    var toggle = el("button", "button secondary", "Pause");
    toggle.type = "button";
    toggle.setAttribute("aria-label", "Pause " + entry.file.name);
    entry.item.appendChild(document.createTextNode(" "));
    entry.item.appendChild(toggle);
    var upload = new window.IntakeTus.Upload(entry.file, {
      endpoint: "/api/tus/", metadata: metadata, chunkSize: resumableChunk,
      onProgress: function (sent, size) { entry.bar.value = size ? sent / size : 1; entry.loaded = sent; update(); },
      onState: function (text) { state.textContent = text; },
      onSuccess: function (info) { toggle.remove(); done(null, info.receipt); },
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
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.name && field.type !== "file" && field.type !== "submit") data.append(field.name, field.value);
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
        done(null, ((body.files && body.files[0]) || {}).receipt);
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

  function alert(text) {
    status.className = "upload-status form-error";
    status.setAttribute("role", "alert");
    status.textContent = text;
  }

  var shownReceipt = null;
  var portalAddress = window.location.pathname;

  // The form back, empty of files, for a deliberate second submission.
  function sendMore() {
    if (shownReceipt) { shownReceipt.remove(); shownReceipt = null; }
    chosen = [];
    list.textContent = "";
    showProblems();
    var message = form.querySelector("#clientMessage");
    if (message) message.value = "";
    status.textContent = "";
    total.hidden = true;
    total.value = 0;
    form.hidden = false;
    if (window.history && history.replaceState) history.replaceState(null, "", portalAddress);
    zone.focus();
  }

  // The server's receipt for these files, shown in place of the form: the same page as after a
  // plain form post, and its address kept in the location bar (a reload shows it again).
  function showReceipt(receipts, failures) {
    var address = "/p/" + encodeURIComponent(slug) + "/receipt?" + receipts.map(function (r) { return "r=" + encodeURIComponent(r); }).join("&");
    var xhr = new XMLHttpRequest();
    xhr.open("GET", address);
    xhr.setRequestHeader("Accept", "text/html");
    xhr.onload = function () {
      var page = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var body = page.querySelector(".receipt-body");
      if (xhr.status !== 200 || !body) {
        alert("Your files arrived, but the receipt could not be shown. Keep this link: " + window.location.origin + address);
        return;
      }
      body = document.importNode(body, true);
      // The portal's name stays the page's heading.
      var heading = body.querySelector("h1");
      if (heading) {
        var h2 = el("h2", null, heading.textContent);
        h2.id = heading.id;
        h2.tabIndex = -1;
        heading.replaceWith(h2);
        heading = h2;
      }
      if (failures.length) {
        var problem = el("div", "form-error");
        problem.setAttribute("role", "alert");
        problem.appendChild(el("p", null, "These files did not arrive; send them again:"));
        var ul = el("ul");
        failures.forEach(function (text) { ul.appendChild(el("li", null, text)); });
        problem.appendChild(ul);
        body.insertBefore(problem, body.firstChild.nextSibling);
      }
      var more = body.querySelector("[data-send-more]");
      if (more) {
        var again = el("button", "button primary", "Send more files");
        again.type = "button";
        again.addEventListener("click", sendMore);
        more.replaceWith(again);
      }
      form.hidden = true;
      form.parentNode.insertBefore(body, form.nextSibling);
      shownReceipt = body;
      followReceipt(body);
      if (window.history && history.replaceState) history.replaceState(null, "", address);
      if (heading) heading.focus();
    };
    xhr.onerror = function () { alert("Your files arrived, but the receipt could not be shown. Keep this link: " + window.location.origin + address); };
    xhr.send();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (sending) return;
    if (!chosen.length) { alert("Choose at least one file."); zone.focus(); return; }
    var found = showProblems();
    if (found.length) { alert("Nothing was sent: " + found.length + (found.length === 1 ? " problem" : " problems") + " to fix first (listed under the files)."); zone.focus(); return; }
    var required = form.querySelectorAll("input[required]:not([type=file])");
    for (var i = 0; i < required.length; i++) {
      if (!required[i].value.trim()) { required[i].focus(); alert("Fill in the required fields."); return; }
    }
    if (!form.reportValidity()) return;
    sending = true;
    button.disabled = true;
    zone.disabled = true;
    total.hidden = false;
    status.className = "upload-status";
    status.setAttribute("role", "status");
    status.textContent = "Sending…";
    var index = 0, receipts = [], failures = [];
    // While sending, a file cannot be removed (its button comes back if nothing arrived).
    chosen.forEach(function (c) { c.remove.remove(); c.bar.hidden = false; });
    (function next() {
      if (index >= chosen.length) {
        sending = false;
        button.disabled = false;
        zone.disabled = false;
        status.textContent = "";
        if (receipts.length) {
          showReceipt(receipts, failures);
        } else {
          chosen.forEach(function (c) { c.item.appendChild(c.remove); });
          alert("Nothing arrived. " + failures.join(" "));
        }
        return;
      }
      var entry = chosen[index++];
      send(entry, function (error, receipt) {
        var state = stateOf(entry);
        if (error) {
          failures.push(entry.file.name + ": " + error);
          state.textContent = "not sent: " + error;
        } else {
          entry.bar.value = 1;
          state.textContent = "arrived";
          if (receipt) receipts.push(receipt);
        }
        next();
      });
    })();
  });
})();
