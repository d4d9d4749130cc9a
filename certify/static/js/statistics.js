/* Draws each chart of the statistics page from its JSON (served by this site; no inline code,
   so the page keeps a strict Content-Security-Policy). */
(function () {
  "use strict";
  if (!window.Chart || !window.fetch) { return; }
  var palette = ["#1f6f43", "#3c8dbc", "#f39c12", "#8e44ad", "#16a085", "#7f8c8d", "#2c3e50"];
  // Score bands read from low (red) to high (green), never the other way round.
  var bands = ["#c0392b", "#e67e22", "#d4ac0d", "#7fb77e", "#1f6f43"];

  function wholeNumbers(rows, columns) {
    return rows.every(function (row) {
      return row.slice(1, columns + 1).every(function (value) { return Number.isInteger(Number(value)); });
    });
  }

  function draw(canvas, data) {
    var colours = data.key === "sections" ? bands : palette;
    var stacked = data.chart === "stacked";
    var type = data.chart === "line" ? "line" : "bar";
    var valueColumns = data.chart === "bar" ? 1 : data.columns.length - 1;
    var datasets = [];
    for (var c = 1; c <= valueColumns; c++) {
      datasets.push({
        label: data.columns[c],
        data: data.rows.map(function (row) { return row[c]; }),
        backgroundColor: colours[(c - 1) % colours.length],
        borderColor: colours[(c - 1) % colours.length]
      });
    }
    new window.Chart(canvas, {
      type: type,
      data: { labels: data.rows.map(function (row) { return row[0]; }), datasets: datasets },
      options: {
        animation: false,
        responsive: true,
        plugins: { legend: { display: datasets.length > 1 } },
        scales: {
          x: { stacked: stacked },
          // Counts step by whole numbers (no "0.5 applications").
          y: { stacked: stacked, beginAtZero: true, ticks: wholeNumbers(data.rows, valueColumns) ? { precision: 0 } : {} }
        }
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
