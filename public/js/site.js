// Intake, every page: the small-screen menu toggle, dates in the viewer's time zone, and keyboard
// access to tables that scroll sideways. Pages work without it: the menu then stays open, dates
// stay in UTC (and say so), wide tables scroll as they are.
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  // The menu behind "Menu" on narrow screens; Escape closes it and gives focus back.
  var toggle = document.querySelector(".menu-toggle");
  var menu = document.getElementById("site-menu");
  if (toggle && menu) {
    toggle.hidden = false;
    var setOpen = function (open) {
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      menu.classList.toggle("open", open);
    };
    toggle.addEventListener("click", function () {
      setOpen(toggle.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
        setOpen(false);
        toggle.focus();
      }
    });
  }

  // <time datetime="2026-11-21T05:28:09Z">2026-11-21 05:28 UTC</time> → the viewer's zone,
  // one line ("21 Nov 2026, 06:28"); the UTC text stays in the title. Dates without a time
  // (a day) are calendar days, not instants: they are left as they are.
  var formatter = null;
  try {
    formatter = new Intl.DateTimeFormat(undefined, {
      year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit"
    });
  } catch (e) { formatter = null; }
  if (formatter) {
    var times = document.querySelectorAll("time[datetime*='T']");
    for (var i = 0; i < times.length; i++) {
      var element = times[i];
      var instant = new Date(element.getAttribute("datetime"));
      if (isNaN(instant.getTime())) continue;
      if (!element.title) element.title = element.textContent.trim();
      element.textContent = formatter.format(instant);
    }
  }

  // A table wider than its box scrolls: make the box reachable by keyboard, and name it.
  var wraps = document.querySelectorAll(".table-wrap");
  for (var j = 0; j < wraps.length; j++) {
    var wrap = wraps[j];
    if (wrap.scrollWidth > wrap.clientWidth + 1 && !wrap.hasAttribute("tabindex")) {
      wrap.setAttribute("tabindex", "0");
      wrap.setAttribute("role", "region");
      var table = wrap.querySelector("table");
      var caption = table && (table.getAttribute("aria-label") || (table.caption && table.caption.textContent));
      wrap.setAttribute("aria-label", (caption || "Table") + " (scrolls sideways)");
    }
  }
})();
