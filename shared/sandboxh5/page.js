// The sandbox H5 page's only script: once an outcome is chosen, the other
// buttons stop answering, so a double tap cannot send two choices. The
// buttons are disabled after the browser has taken the clicked one's
// value (a disabled submitter would send nothing).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("outcomes");
  if (!form) {
    return;
  }
  form.addEventListener("submit", function () {
    form.classList.add("sending");
    setTimeout(function () {
      var buttons = form.querySelectorAll("button");
      for (var i = 0; i < buttons.length; i++) {
        buttons[i].disabled = true;
      }
    }, 0);
  });
});
