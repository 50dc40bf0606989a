// Intake storage page: the purchase form's cost, shown as you type. Progressive enhancement:
// without this script the Review button shows the same figures, computed on the server, and the
// confirm step (always the server's) is what charges. Money is whole minor units in BigInt, as
// on the server: never a float. The price, currency exponent and balance come from the form's
// data attributes; the words are the confirm step's.
(function () {
  "use strict";

  var form = document.getElementById("purchase-form");
  if (!form || typeof BigInt !== "function") return;
  var input = form.querySelector("#gb");
  var preview = document.getElementById("purchase-preview");
  var price = BigInt(form.dataset.priceMinor);
  var balance = BigInt(form.dataset.balanceMinor);
  var exponent = Number(form.dataset.exponent);
  var currency = form.dataset.currency;
  var min = BigInt(form.dataset.min);
  var max = BigInt(form.dataset.max);
  var initial = preview.textContent;

  // 499n -> "$4.99" (Money.description): the minor units with the point placed by the exponent,
  // after the currency's sign (or its code and a no-break space: "CHF 4.99").
  function money(minor) {
    var negative = minor < 0n;
    var digits = (negative ? -minor : minor).toString();
    if (exponent > 0) {
      while (digits.length <= exponent) digits = "0" + digits;
      digits = digits.slice(0, digits.length - exponent) + "." + digits.slice(digits.length - exponent);
    }
    return (negative ? "-" : "") + currency + digits;
  }

  // The server's rules (PurchaseQuote.gb and the pricing's range), with its messages.
  function describe(raw) {
    var text = raw.trim();
    if (text === "") return { text: initial };
    if (/[^\x00-\x7F]/.test(text)) return { error: "Type the number with the digits 0 to 9 (other scripts' digits, such as full-width ones, are not read)." };
    if (!/^[0-9]+$/.test(text)) return { error: "Enter a whole number of GB, digits only (no sign, point or spaces)." };
    var gb = BigInt(text);
    if (gb < 1n) return { error: "Enter at least 1 GB." };
    if (gb < min || gb > max) return { error: "Buy from " + min + " to " + max + " GB at a time." };
    var cost = gb * price;
    var sentence = gb + " GB for " + money(cost) + ", from your balance of " + money(balance);
    if (cost <= balance) return { text: sentence + ", leaving " + money(balance - cost) + "." };
    return { text: sentence + ": " + money(cost - balance) + " more is needed.", short: true };
  }

  function update() {
    var result = describe(input.value);
    preview.textContent = result.error || result.text;
    preview.classList.toggle("field-error", !!result.error);
    preview.classList.toggle("hint", !result.error);
    preview.dataset.state = result.error ? "error" : result.short ? "short" : "ok";
  }

  input.addEventListener("input", update);
  if (input.value.trim() !== "" && !input.hasAttribute("aria-invalid")) update();
})();
