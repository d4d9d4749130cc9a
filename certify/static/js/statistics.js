/* Draws each chart of the statistics page from its JSON (served by this site; no inline code,
   so the page keeps a strict Content-Security-Policy). */
(function () {
  "use strict";
  if (!window.Chart || !window.fetch) { return; }
  var palette = ["#1f6f43", "#3c8dbc", "#f39c12", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d"];

  function draw(canvas, data) {
    var stacked = data.chart === "stacked";
    var type = data.chart === "line" ? "line" : "bar";
    var valueColumns = data.chart === "bar" ? 1 : data.columns.length - 1;
    var datasets = [];
    for (var c = 1; c <= valueColumns; c++) {
      datasets.push({
        label: data.columns[c],
        data: data.rows.map(function (row) { return row[c]; }),
        backgroundColor: palette[(c - 1) % palette.length],
        borderColor: palette[(c - 1) % palette.length]
      });
    }
    new window.Chart(canvas, {
      type: type,
      data: { labels: data.rows.map(function (row) { return row[0]; }), datasets: datasets },
      options: {
        animation: false,
        responsive: true,
        plugins: { legend: { display: datasets.length > 1 } },
        scales: { x: { stacked: stacked }, y: { stacked: stacked, beginAtZero: true } }
      }
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("canvas[data-chart-url]"), function (canvas) {
    fetch(canvas.dataset.chartUrl, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) { draw(canvas, data); } })
      .catch(function () { /* the data table below the chart still shows the figures */ });
  });
})();
