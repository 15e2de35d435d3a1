// On a phone every table is shown as a list (megafon.css); this names each cell after its
// column so a row still reads "Konto: …, Tid: …". Without JavaScript the rows are still lists.
(function () {
  "use strict";
  function label(table) {
    var heads = table.querySelectorAll("thead tr:last-child th");
    if (!heads.length) { return; }
    var names = [];
    heads.forEach(function (th) {
      var span = parseInt(th.getAttribute("colspan") || "1", 10);
      for (var i = 0; i < span; i++) { names.push(th.textContent.trim()); }
    });
    table.querySelectorAll("tbody tr, tfoot tr").forEach(function (row) {
      var column = 0;
      Array.prototype.forEach.call(row.children, function (cell) {
        if (!cell.hasAttribute("data-label") && names[column] !== undefined) {
          cell.setAttribute("data-label", names[column]);
        }
        column += parseInt(cell.getAttribute("colspan") || "1", 10);
      });
    });
  }
  function all() { document.querySelectorAll("table").forEach(label); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", all); }
  else { all(); }
})();
