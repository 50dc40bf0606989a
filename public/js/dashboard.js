// Intake dashboard and files page: progressive enhancement. Without this script every link is
// shown in a field to select and copy, and the files page's buttons post the boxes ticked.
// With it: "Copy link" buttons put a portal's address on the clipboard, and a box in the files
// table's header selects every file on the page.
(function () {
  "use strict";

  var buttons = document.querySelectorAll("button[data-copy]");
  for (var i = 0; i < buttons.length; i++) {
    var button = buttons[i];
    if (!navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", function () {
      var field = document.getElementById(this.dataset.copy);
      var status = this.parentNode.querySelector(".copy-status");
      navigator.clipboard.writeText(field.value).then(function () {
        if (status) status.textContent = "Copied.";
      }, function () {
        field.select();
        if (status) status.textContent = "Press Ctrl+C (⌘C) to copy.";
      });
    });
  }

  var all = document.getElementById("select-all");
  if (all) {
    var boxes = document.querySelectorAll("input[type=checkbox][name=id]");
    all.closest(".select-all").hidden = false;
    all.addEventListener("change", function () {
      for (var j = 0; j < boxes.length; j++) boxes[j].checked = all.checked;
    });
    for (var k = 0; k < boxes.length; k++) {
      boxes[k].addEventListener("change", function () {
        var ticked = 0;
        for (var m = 0; m < boxes.length; m++) if (boxes[m].checked) ticked++;
        all.checked = ticked === boxes.length;
        all.indeterminate = ticked > 0 && ticked < boxes.length;
      });
    }
  }
})();
