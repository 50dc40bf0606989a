// Intake admin pages: progressive enhancement of the plain form posts.
// Every page works without this script; the server stays the authority and checks everything
// again. With it: the same validation rules run before sending, forms are sent with fetch and
// errors appear beside their fields without a reload, and leaving with unsaved changes asks first.
// On every signed-in page, a form marked data-confirm (a delete) asks before it is sent.
(function () {
  "use strict";

  var csrf = document.querySelector('meta[name="csrf-token"]');

  // The rules, mirroring the server's parsers (Money, ByteSize, WholeNumber).
  // Each says what to type instead, in the words of what the number is (WholeNumber, DecimalText).
  function separatorHint(text) {
    if (!/^[0-9]+(,[0-9]*)+$/.test(text)) return null;
    var groups = text.split(",");
    if (groups[0].length <= 3 && groups.slice(1).every(function (g) { return g.length === 3; })) {
      return "Leave out the thousands separator: " + groups.join("") + ".";
    }
    if (groups.length === 2 && groups[1] !== "") return "Use a point for decimals: " + groups[0] + "." + groups[1] + ".";
    return null;
  }

  function decimal(text, example, negative) {
    if (text === "") return "Enter a number.";
    if (/^-[0-9.]+$/.test(text)) return negative;
    var hint = separatorHint(text);
    if (hint) return hint;
    if (!/^(?:[0-9]+\.?[0-9]*|\.[0-9]+)$/.test(text) || /\.$/.test(text)) {
      return "Enter a number like " + example + " (digits, and a point for decimals).";
    }
    return null;
  }

  var rules = {
    required: function (value) {
      return value.trim() === "" ? "Enter a value." : null;
    },
    whole: function (value, input) {
      var text = value.trim();
      var min = Number(input.dataset.min), max = Number(input.dataset.max);
      var bounds = "Enter a number from " + min + " to " + max + ".";
      if (text === "") return "Enter a number.";
      if (/^[0-9]+$/.test(text)) {
        var n = Number(text);
        if (n > max) return "That is too large. " + bounds;
        if (n < min) return bounds;
        return null;
      }
      if (/^-[0-9]+$/.test(text)) return bounds + " No minus sign.";
      var groups = text.split(",");
      if (groups.length > 1 && /^[0-9]+(,[0-9]{3})+$/.test(text) && groups[0].length <= 3) {
        return "Leave out the thousands separator: " + groups.join("") + ".";
      }
      if (/^[0-9]*\.[0-9]*$/.test(text) || /^[0-9]+(,[0-9]+)+$/.test(text)) return "Enter a whole number, without decimals.";
      return "Enter a whole number (digits only).";
    },
    money: function (value, input, form) {
      var text = value.trim();
      var problem = decimal(text, "4.99", "Enter an amount of 0 or more, without a minus sign.");
      if (problem) return problem;
      var exponent = Number(input.dataset.exponent || exponentOf(form));
      var fraction = (text.split(".")[1] || "").replace(/0+$/, "");
      if (fraction.length > exponent) return "Use at most " + exponent + " decimal" + (exponent === 1 ? "" : "s") + ".";
      return null;
    },
    size: function (value) {
      return decimal(value.trim(), "1.5", "A size cannot be negative.");
    }
  };

  function exponentOf(form) {
    var currency = form.querySelector("#currency");
    var option = currency && currency.selectedOptions[0];
    return option && option.dataset.exponent ? option.dataset.exponent : "2";
  }

  function errorElement(form, field) {
    return form.querySelector("#" + field + "-error");
  }

  function showError(form, field, message) {
    var box = errorElement(form, field);
    if (box) box.textContent = message || "";
    var container = form.querySelector('[data-field="' + field + '"]');
    var inputs = container ? container.querySelectorAll("input:not([type=hidden]), select") : [];
    for (var i = 0; i < inputs.length; i++) {
      if (message) inputs[i].setAttribute("aria-invalid", "true"); else inputs[i].removeAttribute("aria-invalid");
    }
  }

  function clearErrors(form) {
    var boxes = form.querySelectorAll(".field-error");
    for (var i = 0; i < boxes.length; i++) boxes[i].textContent = "";
    var invalid = form.querySelectorAll("[aria-invalid]");
    for (var j = 0; j < invalid.length; j++) invalid[j].removeAttribute("aria-invalid");
    var summary = form.parentNode.querySelector(".form-error");
    if (summary) summary.remove();
  }

  function validate(form) {
    var errors = {};
    var inputs = form.querySelectorAll("[data-rule]");
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      var field = input.closest("[data-field]").dataset.field;
      if (input.dataset.unless && form.querySelector("#" + input.dataset.unless).checked) continue;
      if (input.dataset.when && !form.querySelector("#" + input.dataset.when).checked) continue;
      var message = rules[input.dataset.rule](input.value, input, form);
      if (!message && input.dataset.notBelow) {
        var other = form.querySelector("#" + input.dataset.notBelow);
        if (/^[0-9]+$/.test(other.value.trim()) && Number(input.value) < Number(other.value)) {
          message = "The maximum must not be below the minimum (" + other.value.trim() + " GB).";
        }
      }
      if (message && !errors[field]) errors[field] = message;
    }
    var sizes = form.querySelectorAll("[data-size-number]");
    for (var k = 0; k < sizes.length; k++) {
      var sizeField = sizes[k].closest("[data-field]").dataset.field;
      var sizeMessage = rules.size(sizes[k].value);
      if (sizeMessage && !errors[sizeField]) errors[sizeField] = sizeMessage;
    }
    return errors;
  }

  function show(form, errors, summaryText) {
    var first = null;
    Object.keys(errors).forEach(function (field) {
      showError(form, field, errors[field]);
      var container = form.querySelector('[data-field="' + field + '"]');
      var input = container && container.querySelector("input:not([type=hidden]), select");
      if (input && (!first || (first.compareDocumentPosition(input) & Node.DOCUMENT_POSITION_PRECEDING))) first = input;
    });
    var summary = document.createElement("p");
    summary.className = "form-error";
    summary.setAttribute("role", "alert");
    summary.textContent = summaryText || "Some fields need attention.";
    form.parentNode.insertBefore(summary, form);
    if (first) first.focus();
  }

  function enhance(form) {
    var dirty = false;
    var sending = false;
    form.addEventListener("input", function () { dirty = true; });
    form.addEventListener("change", function () { dirty = true; });
    window.addEventListener("beforeunload", function (event) {
      if (dirty && !sending) { event.preventDefault(); event.returnValue = ""; }
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearErrors(form);
      var errors = validate(form);
      if (Object.keys(errors).length) { show(form, errors); return; }
      var button = form.querySelector("button[type=submit]");
      if (button) button.disabled = true;
      sending = true;
      // getAttribute: a field named "action" would shadow form.action (DOM named properties).
      fetch(form.getAttribute("action"), {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Accept": "application/json",
          "Content-Type": "application/x-www-form-urlencoded",
          "X-CSRF-Token": csrf ? csrf.content : ""
        },
        body: new URLSearchParams(new FormData(form)).toString()
      }).then(function (response) {
        return response.json().then(function (body) { return { status: response.status, body: body }; });
      }).then(function (result) {
        if (result.body.ok) {
          dirty = false;
          window.location.assign(result.body.redirect);
          return;
        }
        sending = false;
        if (button) button.disabled = false;
        var error = result.body.error || {};
        show(form, error.fields || {}, error.message || "The form could not be saved.");
      }).catch(function () {
        sending = false;
        if (button) button.disabled = false;
        show(form, {}, "The form could not be sent. Check the connection and try again.");
      });
    });
  }

  var destructive = document.querySelectorAll("form[data-confirm]");
  for (var d = 0; d < destructive.length; d++) {
    destructive[d].addEventListener("submit", function (event) {
      if (!window.confirm(this.dataset.confirm)) event.preventDefault();
    });
  }

  var forms = document.querySelectorAll("form[data-enhance]");
  for (var i = 0; i < forms.length; i++) enhance(forms[i]);
})();
