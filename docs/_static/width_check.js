/* Self-check for automated viewers (scripts/check_docs_width.py): does anything on the page need a
   horizontal scrollbar? Lists the page itself and every table, code block and cell output whose
   content is wider than its box, on <body data-wide="..."> ("none" when nothing is). */
window.addEventListener("load", function () {
  var wide = [];
  var root = document.documentElement;
  if (root.scrollWidth > root.clientWidth + 1) { wide.push("page " + root.scrollWidth + ">" + root.clientWidth); }
  document.querySelectorAll("table, pre, .cell_output, .output, .table-wrapper").forEach(function (el) {
    if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0) {
      var text = (el.innerText || "").split("\n")[0].slice(0, 60);
      wide.push(el.tagName.toLowerCase() + " " + el.scrollWidth + ">" + el.clientWidth + " '" + text + "'");
    }
  });
  document.body.dataset.wide = wide.length ? wide.join(" | ") : "none";
});
