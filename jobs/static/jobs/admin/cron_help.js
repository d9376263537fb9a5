// Live cron help under the job form's cron field: the description and the next
// five fire times in the selected time zone, from the admin's cron-help view
// (the same cron engine as the scheduler). No build step, no dependencies.
(function () {
  "use strict";

  function init() {
    var config = document.getElementById("cronhub-cron-help-config");
    var input = document.getElementById("id_cron_expression");
    if (!config || !input) { return; }
    var zoneField = document.getElementById("id_timezone");
    var box = document.createElement("div");
    box.id = "cronhub-cron-help";
    box.className = "cronhub-cron-help";
    box.setAttribute("aria-live", "polite");
    // Below the label+input row, not beside the input (the row is a flex box).
    (input.closest(".flex-container") || input).insertAdjacentElement("afterend", box);

    var timer = null;
    var latest = 0;

    function render(data) {
      box.textContent = "";
      box.classList.toggle("cronhub-cron-invalid", !data.valid);
      if (!data.valid) {
        var error = document.createElement("p");
        error.className = "cronhub-cron-error";
        error.textContent = data.message;
        box.appendChild(error);
        return;
      }
      var description = document.createElement("p");
      description.className = "cronhub-cron-description";
      description.textContent = data.description;
      box.appendChild(description);
      var heading = document.createElement("p");
      heading.className = "cronhub-cron-heading";
      heading.textContent = data.heading;  // in the page's language, from the server
      box.appendChild(heading);
      var list = document.createElement("ol");
      list.className = "cronhub-cron-next";
      data.next_runs_display.forEach(function (text, index) {
        var item = document.createElement("li");
        item.textContent = text;
        item.setAttribute("data-iso", data.next_runs[index]);
        list.appendChild(item);
      });
      box.appendChild(list);
    }

    function refresh() {
      var request = ++latest;
      if (!input.value.trim()) {
        // Nothing typed yet: nothing to judge (the form says the field is required on submit).
        box.textContent = "";
        box.classList.remove("cronhub-cron-invalid");
        return;
      }
      var params = new URLSearchParams({
        expression: input.value,
        timezone: zoneField ? zoneField.value : ""
      });
      box.classList.add("cronhub-cron-loading");
      fetch(config.getAttribute("data-url") + "?" + params.toString(), {
        credentials: "same-origin",
        headers: {"Accept": "application/json"}
      }).then(function (response) {
        return response.json();
      }).then(function (data) {
        if (request === latest) { render(data); }  // ignore answers to older keystrokes
      }).catch(function () {
        if (request === latest) { render({valid: false, message: config.getAttribute("data-unreachable")}); }
      }).finally(function () {
        box.classList.remove("cronhub-cron-loading");
      });
    }

    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(refresh, 250);
    }

    input.addEventListener("input", schedule);
    if (zoneField) { zoneField.addEventListener("change", refresh); }
    refresh();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
