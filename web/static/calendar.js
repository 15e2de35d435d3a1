// The calendar: drag a post onto another day (it keeps its time) or onto a posting time of a
// day; the post's own "Move" form is filled and sent, CSRF token and all, so the server
// decides (publisher.calendar.move_post). The form works by itself, by keyboard, without this.
(function () {
  "use strict";
  var calendar = document.querySelector("[data-calendar]");
  if (!calendar) { return; }
  var dragged = null;

  calendar.addEventListener("dragstart", function (event) {
    var post = event.target.closest && event.target.closest("[data-post]");
    if (!post) { return; }
    dragged = post;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", post.getAttribute("data-post"));
    post.classList.add("dragging");
  });

  calendar.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("dragging"); }
    dragged = null;
    calendar.querySelectorAll(".drop-here").forEach(function (el) { el.classList.remove("drop-here"); });
  });

  function target(event) {
    return event.target.closest ? event.target.closest("[data-drop-date]") : null;
  }

  calendar.addEventListener("dragover", function (event) {
    var place = target(event);
    if (!dragged || !place) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    calendar.querySelectorAll(".drop-here").forEach(function (el) { el.classList.remove("drop-here"); });
    place.classList.add("drop-here");
  });

  calendar.addEventListener("drop", function (event) {
    var place = target(event);
    if (!dragged || !place) { return; }
    event.preventDefault();
    var form = dragged.querySelector("form.move-form");
    if (!form) { return; }
    form.elements.date.value = place.getAttribute("data-drop-date");
    var time = place.getAttribute("data-drop-time");
    if (time) {
      form.elements.time.value = time;
      form.elements.reading.value = "summer"; // a posting time in the doubled hour: the first
    }
    form.submit();
  });
})();
