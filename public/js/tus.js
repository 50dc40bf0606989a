// Intake's resumable uploads in the browser: a small client of the tus 1.0 protocol
// (https://tus.io/protocols/resumable-upload) as /api/tus/ speaks it. A file goes in chunks; after
// a dropped connection or a server that is busy, it waits (1, 2, 4 … 30 s), asks the server where
// the upload stands (HEAD) and goes on from there, never from the start. The upload's address is
// kept in localStorage, so a reloaded page resumes the same upload of the same file. Pause stops
// the chunk in flight; resume asks the server and continues.
(function () {
  "use strict";
  var VERSION = "1.0.0";

  function base64(text) {
    return btoa(unescape(encodeURIComponent(text)));
  }

  function metadataHeader(metadata) {
    return Object.keys(metadata).filter(function (k) { return metadata[k] !== undefined && metadata[k] !== null; })
      .map(function (k) { return k + " " + base64(String(metadata[k])); }).join(",");
  }

  // options: endpoint, metadata, chunkSize, onProgress(sent, total), onState(text), onSuccess(info), onError(message)
  function Upload(file, options) {
    this.file = file;
    this.options = options;
    this.offset = 0;
    this.url = null;
    this.xhr = null;
    this.paused = false;
    this.finished = false;
    this.failures = 0;
    this.key = "intake-tus:" + [options.metadata.portalId, file.name, file.size, file.lastModified].join(":");
  }

  Upload.prototype.request = function (method, url, headers, body, onProgress, callback) {
    var xhr = new XMLHttpRequest();
    this.xhr = xhr;
    xhr.open(method, url);
    xhr.setRequestHeader("Tus-Resumable", VERSION);
    Object.keys(headers).forEach(function (name) { xhr.setRequestHeader(name, headers[name]); });
    if (onProgress) xhr.upload.onprogress = function (e) { onProgress(e.loaded); };
    xhr.onload = function () { callback(xhr.status, xhr); };
    xhr.onerror = xhr.ontimeout = function () { callback(0, xhr); };
    xhr.onabort = function () { callback(-1, xhr); };
    xhr.send(body === undefined ? null : body);
  };

  Upload.prototype.start = function () {
    var stored = null;
    try { stored = window.localStorage.getItem(this.key); } catch (ignored) {}
    if (stored) {
      this.url = stored;
      this.locate();
    } else {
      this.create();
    }
  };

  Upload.prototype.create = function () {
    var self = this;
    this.options.onState("Starting…");
    this.request("POST", this.options.endpoint, { "Upload-Length": String(this.file.size), "Upload-Metadata": metadataHeader(this.options.metadata) },
      undefined, null, function (status, xhr) {
        if (status === 201 && xhr.getResponseHeader("Location")) {
          self.url = xhr.getResponseHeader("Location");
          try { window.localStorage.setItem(self.key, self.url); } catch (ignored) {}
          self.offset = 0;
          self.failures = 0;
          self.next();
        } else if (self.retryable(status)) {
          self.retry(function () { self.create(); });
        } else {
          self.fail(xhr.responseText || ("The upload could not start (" + status + ")."));
        }
      });
  };

  // HEAD: where the upload stands on the server.
  Upload.prototype.locate = function () {
    var self = this;
    this.request("HEAD", this.url, {}, undefined, null, function (status, xhr) {
      if (status === 200) {
        self.offset = Number(xhr.getResponseHeader("Upload-Offset"));
        self.failures = 0;
        self.report(0);
        if (self.offset >= self.file.size && xhr.getResponseHeader("Intake-Upload-Status") === "uploaded") {
          self.succeed(xhr);
        } else {
          self.next();
        }
      } else if (status === 404 || status === 410) {
        // Gone (expired or removed): start again.
        try { window.localStorage.removeItem(self.key); } catch (ignored) {}
        self.create();
      } else if (status !== -1) {
        self.retry(function () { self.locate(); });
      }
    });
  };

  Upload.prototype.next = function () {
    var self = this;
    if (this.paused) return;
    var end = Math.min(this.offset + this.options.chunkSize, this.file.size);
    this.options.onState("Sending…");
    this.request("PATCH", this.url, { "Content-Type": "application/offset+octet-stream", "Upload-Offset": String(this.offset) },
      this.file.slice(this.offset, end), function (loaded) { self.report(loaded); }, function (status, xhr) {
        if (status === 204) {
          self.offset = Number(xhr.getResponseHeader("Upload-Offset"));
          self.failures = 0;
          self.report(0);
          if (self.offset >= self.file.size) self.succeed(xhr); else self.next();
        } else if (status === -1) {
          // Paused.
        } else if (self.retryable(status)) {
          self.retry(function () { self.locate(); });
        } else {
          self.fail(xhr.responseText || ("The upload failed (" + status + ")."));
        }
      });
  };

  // A dropped connection (0), a conflict about the offset, a busy or failing server: worth another go.
  Upload.prototype.retryable = function (status) {
    return status === 0 || status === 409 || status === 423 || status === 429 || status >= 500;
  };

  Upload.prototype.retry = function (then) {
    var self = this;
    this.failures += 1;
    if (this.failures > 12) { this.fail("The connection keeps failing. Try again later; the upload will resume where it stopped."); return; }
    var wait = Math.min(30, Math.pow(2, this.failures - 1));
    this.options.onState("Connection lost. Trying again in " + wait + " s…");
    this.timer = setTimeout(function () { if (!self.paused) then(); }, wait * 1000);
  };

  Upload.prototype.report = function (loaded) {
    this.options.onProgress(Math.min(this.offset + loaded, this.file.size), this.file.size);
  };

  Upload.prototype.succeed = function (xhr) {
    this.finished = true;
    try { window.localStorage.removeItem(this.key); } catch (ignored) {}
    this.options.onSuccess({ uploadId: xhr.getResponseHeader("Intake-Upload-Id"), fileName: this.file.name,
                             status: xhr.getResponseHeader("Intake-Upload-Status"), receipt: xhr.getResponseHeader("Intake-Receipt") });
  };

  Upload.prototype.fail = function (message) {
    this.finished = true;
    this.options.onError(message.trim());
  };

  Upload.prototype.pause = function () {
    this.paused = true;
    clearTimeout(this.timer);
    if (this.xhr) this.xhr.abort();
    this.options.onState("Paused");
  };

  Upload.prototype.resume = function () {
    if (!this.paused || this.finished) return;
    this.paused = false;
    this.failures = 0;
    if (this.url) this.locate(); else this.create();
  };

  window.IntakeTus = { Upload: Upload };
})();
