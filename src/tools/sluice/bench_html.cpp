// The HTML report of `sluice bench --sweep`: one self-contained page (inline SVG and style, no scripts),
// so that it can be mailed or archived alone.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

#include "sluice/error.hpp"
#include "tools/sluice/bench_report.hpp"

namespace sluice::tool {
namespace {

std::string escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string number(double value, int digits = 2) {
  std::ostringstream text;
  text << std::fixed << std::setprecision(digits) << value;
  return text.str();
}

// A round tick step (1, 2 or 5 times a power of ten) giving about five ticks up to `max`.
double tick_step(double max) {
  if (!(max > 0)) return 1;
  const double raw = max / 5;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double factor : {1.0, 2.0, 5.0}) {
    if (raw <= factor * power) return factor * power;
  }
  return 10 * power;
}

// Tick labels with as many decimals as the step needs (0.25 -> 2, 50 -> 0).
int tick_digits(double step) { return std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9))); }

// The chart's geometry: data (median latency ms, FPS) to SVG pixels. The left margin fits the longest
// throughput tick label; the legend sits in the top margin, off the points.
struct Plot {
  static constexpr double width = 860, height = 540, right = 70, top = 60, bottom = 60;
  double left = 80;
  double x_max = 0, y_max = 0;
  double px(double latency_ms) const { return left + latency_ms / x_max * (width - left - right); }
  double py(double fps) const { return height - bottom - fps / y_max * (height - top - bottom); }
};

// An approximate text box (12 px sans-serif), for keeping labels apart.
struct Box {
  double x0, y0, x1, y1;
  bool overlaps(const Box& other) const {
    return x0 < other.x1 && other.x0 < x1 && y0 < other.y1 && other.y0 < y1;
  }
};
constexpr double char_width = 6.8;

// Places point labels one by one at the first of four spots around the point (above right, below right,
// above left, below left) that overlaps no marker and no label placed before, inside the chart; when
// none is free, above right. Returns the SVG text element.
class LabelPlacer {
 public:
  explicit LabelPlacer(const Plot& plot) : plot_(plot) {}
  void add_marker(double x, double y, double r) { taken_.push_back({x - r, y - r, x + r, y + r}); }
  std::string place(double x, double y, double gap, const std::string& text, const std::string& attributes,
                    bool bold = false) {
    const double w = static_cast<double>(text.size()) * char_width * (bold ? 1.25 : 1), h = 13;
    struct Spot {
      double dx, dy;
      bool end;  // anchored at its end (left of the point)
    };
    const Spot spots[] = {
        {gap, -gap, false}, {gap, gap + 9, false}, {-gap, -gap, true}, {-gap, gap + 9, true}};
    const Spot* chosen = &spots[0];
    for (const Spot& spot : spots) {
      const Box box = box_of(x + spot.dx, y + spot.dy, w, h, spot.end);
      const bool inside = box.x0 >= plot_.left && box.x1 <= Plot::width - 4 && box.y0 >= Plot::top - 4;
      if (inside &&
          std::none_of(taken_.begin(), taken_.end(), [&](const Box& b) { return b.overlaps(box); })) {
        chosen = &spot;
        break;
      }
    }
    taken_.push_back(box_of(x + chosen->dx, y + chosen->dy, w, h, chosen->end));
    std::ostringstream svg;
    svg << "<text x='" << x + chosen->dx << "' y='" << y + chosen->dy << "'"
        << (chosen->end ? " text-anchor='end'" : "") << attributes << ">" << escape(text) << "</text>";
    return svg.str();
  }

 private:
  static Box box_of(double x, double baseline, double w, double h, bool end) {
    const double x0 = end ? x - w : x;
    return {x0, baseline - h + 3, x0 + w, baseline + 3};
  }
  const Plot& plot_;
  std::vector<Box> taken_;
};

void write_axes(std::ostream& svg, const Plot& plot) {
  const double x_step = tick_step(plot.x_max), y_step = tick_step(plot.y_max);
  svg << "<g stroke='#dddddd' stroke-width='1'>\n";
  for (double x = 0; x <= plot.x_max + x_step * 1e-6; x += x_step) {
    svg << "<line x1='" << plot.px(x) << "' y1='" << Plot::top << "' x2='" << plot.px(x) << "' y2='"
        << Plot::height - Plot::bottom << "'/>\n";
    svg << "<text stroke='none' x='" << plot.px(x) << "' y='" << Plot::height - Plot::bottom + 18
        << "' text-anchor='middle'>" << number(x, tick_digits(x_step)) << "</text>\n";
  }
  for (double y = 0; y <= plot.y_max + y_step * 1e-6; y += y_step) {
    svg << "<line x1='" << plot.left << "' y1='" << plot.py(y) << "' x2='" << Plot::width - Plot::right
        << "' y2='" << plot.py(y) << "'/>\n";
    svg << "<text stroke='none' x='" << plot.left - 8 << "' y='" << plot.py(y) + 4 << "' text-anchor='end'>"
        << number(y, tick_digits(y_step)) << "</text>\n";
  }
  svg << "</g>\n";
  svg << "<text font-size='14' x='" << (plot.left + Plot::width - Plot::right) / 2 << "' y='"
      << Plot::height - 15 << "' text-anchor='middle'>median latency (ms)</text>\n";
  svg << "<text font-size='14' transform='translate(20," << (Plot::top + Plot::height - Plot::bottom) / 2
      << ") rotate(-90)' text-anchor='middle'>throughput (FPS)</text>\n";
}

// A batching run's part of the tooltip: "; AUTO_BATCH_TIMEOUT 5 ms, 120 full batches, 3 timed out".
std::string auto_batch_tooltip(const BenchReport& report) {
  if (!report.auto_batch) return "";
  const std::vector<std::string> headers = auto_batch_headers(), cells = auto_batch_cells(report);
  std::string text = "; AUTO_BATCH_TIMEOUT " + cells[0] + " ms";
  for (size_t i = 1; i < cells.size(); ++i) text += ", " + cells[i] + " " + headers[i];
  return text;
}

std::string tooltip(const BenchReport& report) {
  return escape(report.label) + ": " + number(report.throughput_fps) + " FPS, median " +
         format_ms(report.latency.median) + " ms, p90 " + format_ms(report.latency.p90) + " ms, p99 " +
         format_ms(report.latency.p99) + " ms; NUM_STREAMS " + escape(report.property("NUM_STREAMS")) +
         ", INFERENCE_NUM_THREADS " + escape(report.property("INFERENCE_NUM_THREADS")) + ", requests " +
         std::to_string(report.requests) + ", batch " + std::to_string(report.batch) +
         auto_batch_tooltip(report);
}

constexpr const char* point_style = "r='5' fill='#3366cc' fill-opacity='0.85'";
constexpr const char* best_style = "r='7' fill='#2a9d3a' stroke='#145a1f' stroke-width='2'";
constexpr const char* hint_text_style = "font-weight='bold' fill='#b01c1c'";

// The hint's marker: a diamond of half-diagonal r centred on (x, y).
std::string diamond(double x, double y, double r) {
  std::ostringstream text;
  text << "<polygon points='" << x << ',' << y - r << ' ' << x + r << ',' << y << ' ' << x << ',' << y + r
       << ' ' << x - r << ',' << y << "' fill='#d62728' stroke='#7a1010' stroke-width='1.5'/>";
  return text.str();
}

void write_chart(std::ostream& svg, const std::string& legend, const std::vector<BenchReport>& grid,
                 const BenchReport& hint, int best) {
  std::vector<const BenchReport*> measured;
  for (const BenchReport& report : grid) {
    if (report.error.empty()) measured.push_back(&report);
  }
  if (hint.error.empty()) measured.push_back(&hint);
  // Styles as presentation attributes rather than CSS, so that the SVG looks the same when copied out of
  // the page into a viewer without the page's styles.
  svg << "<svg xmlns='http://www.w3.org/2000/svg' width='" << Plot::width << "' height='" << Plot::height
      << "' viewBox='0 0 " << Plot::width << ' ' << Plot::height
      << "' font-family='sans-serif' font-size='12' fill='#222222'>\n";
  svg << "<rect width='100%' height='100%' fill='#ffffff'/>\n";
  if (measured.empty()) {
    svg << "<text x='" << Plot::width / 2 << "' y='" << Plot::height / 2
        << "' text-anchor='middle'>no configuration could be measured</text>\n</svg>\n";
    return;
  }
  Plot plot;
  for (const BenchReport* report : measured) {
    plot.x_max = std::max(plot.x_max, report->latency.median);
    plot.y_max = std::max(plot.y_max, report->throughput_fps);
  }
  // Round the axes up to a whole tick, leaving room above the highest point for its label. (A tiny model's
  // latencies are microseconds: the axes scale to the data, however small.)
  if (!(plot.x_max > 0)) plot.x_max = 1;
  if (!(plot.y_max > 0)) plot.y_max = 1;
  const double x_step = tick_step(plot.x_max * 1.05), y_step = tick_step(plot.y_max * 1.1);
  plot.x_max = std::ceil(plot.x_max * 1.05 / x_step) * x_step;
  plot.y_max = std::ceil(plot.y_max * 1.1 / y_step) * y_step;
  plot.left = 44 + char_width * static_cast<double>(number(plot.y_max, tick_digits(y_step)).size());
  write_axes(svg, plot);

  // Every marker first, so that no label covers one; then the labels: the hint's, the best's, the rest.
  LabelPlacer labels(plot);
  // (A point's own marker must not block its label's spots: the marker boxes stay inside the label gaps.)
  for (const BenchReport* report : measured) {
    labels.add_marker(plot.px(report->latency.median), plot.py(report->throughput_fps),
                      report == &hint ? 9 : 7);
  }
  std::ostringstream points, texts, hint_point;
  if (hint.error.empty()) {
    // The hint's point: a larger diamond in another colour, labelled with the hint's name in bold.
    const double x = plot.px(hint.latency.median), y = plot.py(hint.throughput_fps);
    hint_point << "<g><title>" << tooltip(hint) << "</title>" << diamond(x, y, 9) << "</g>\n";
    texts << labels.place(x, y, 11, hint.label, std::string(" ") + hint_text_style, true) << '\n';
  }
  std::vector<size_t> order;
  if (best >= 0) order.push_back(static_cast<size_t>(best));
  for (size_t i = 0; i < grid.size(); ++i) {
    if (static_cast<int>(i) != best) order.push_back(i);
  }
  for (size_t i : order) {
    const BenchReport& report = grid[i];
    if (!report.error.empty()) continue;
    const double x = plot.px(report.latency.median), y = plot.py(report.throughput_fps);
    const bool is_best = static_cast<int>(i) == best;
    points << "<g><title>" << tooltip(report) << (is_best ? " (best)" : "") << "</title><circle cx='" << x
           << "' cy='" << y << "' " << (is_best ? best_style : point_style) << "/></g>\n";
    texts << labels.place(x, y, 8, report.label, "") << '\n';
  }
  // The hint's diamond after the circles, on top of a configuration at the same spot (usually the one it
  // picked).
  svg << points.str() << hint_point.str() << texts.str();

  // The legend, in a row in the top margin; each item as wide as its text.
  const double ly = 24;
  double lx = plot.left + 6;
  const std::string first = "configuration (" + legend + ")";
  svg << "<g>";
  svg << "<circle cx='" << lx << "' cy='" << ly << "' " << point_style << "/><text x='" << lx + 12 << "' y='"
      << ly + 4 << "'>" << escape(first) << "</text>";
  lx += 12 + static_cast<double>(first.size()) * char_width + 30;
  svg << "<circle cx='" << lx << "' cy='" << ly << "' " << best_style << "/><text x='" << lx + 12 << "' y='"
      << ly + 4 << "'>the best configuration</text>";
  lx += 190;
  svg << diamond(lx, ly, 8) << "<text x='" << lx + 12 << "' y='" << ly + 4 << "'>the hint</text>";
  svg << "</g>\n</svg>\n";
}

void write_table(std::ostream& html, const std::vector<BenchReport>& grid, const BenchReport& hint,
                 int best) {
  const double best_fps = best >= 0 ? grid[static_cast<size_t>(best)].throughput_fps : 0;
  const bool batched = any_batched(grid, hint);
  html << "<table>\n<tr><th>configuration</th><th>NUM_STREAMS</th><th>INFERENCE_NUM_THREADS</th>"
          "<th>requests</th><th>batch</th><th>FPS</th><th>median ms</th><th>p90 ms</th><th>p99 ms</th>"
          "<th>vs best</th>";
  if (batched) {
    for (const std::string& header : auto_batch_headers()) html << "<th>" << escape(header) << "</th>";
  }
  html << "</tr>\n";
  const size_t columns = 9 + (batched ? auto_batch_headers().size() : 0);
  auto row = [&](const BenchReport& report, const char* css) {
    html << "<tr class='" << css << "'><td>" << escape(report.label) << "</td>";
    if (!report.error.empty()) {
      html << "<td colspan='" << columns << "' class='error'>failed: " << escape(report.error)
           << "</td></tr>\n";
      return;
    }
    html << "<td>" << escape(report.property("NUM_STREAMS")) << "</td><td>"
         << escape(report.property("INFERENCE_NUM_THREADS")) << "</td><td>" << report.requests << "</td><td>"
         << report.batch << "</td><td>" << number(report.throughput_fps) << "</td><td>"
         << format_ms(report.latency.median) << "</td><td>" << format_ms(report.latency.p90) << "</td><td>"
         << format_ms(report.latency.p99) << "</td><td>"
         << (best_fps > 0 ? number(report.throughput_fps / best_fps) + "x" : "-") << "</td>";
    if (batched) {
      for (const std::string& cell : auto_batch_cells(report)) html << "<td>" << escape(cell) << "</td>";
    }
    html << "</tr>\n";
  };
  for (size_t i = 0; i < grid.size(); ++i) row(grid[i], static_cast<int>(i) == best ? "best" : "");
  row(hint, "hint");
  html << "</table>\n";
}

}  // namespace

void write_sweep_html(const std::string& path, const std::string& title, const std::string& summary,
                      const std::string& legend, const std::vector<BenchReport>& grid,
                      const BenchReport& hint, int best) {
  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n<title>sluice bench "
          "--sweep: "
       << escape(title) << "</title>\n<style>\n"
       << "body { font-family: sans-serif; margin: 2em; color: #222; }\n"
       << "table { border-collapse: collapse; margin-top: 1.5em; }\n"
       << "th, td { border: 1px solid #ccc; padding: 0.25em 0.7em; text-align: right; }\n"
       << "td:first-child, th:first-child { text-align: left; }\n"
       << "tr.best td { background: #e6f4e8; }\n"
       << "tr.hint td { background: #fbe6e6; }\n"
       << "td.error { text-align: left; color: #a00; }\n"
       << "</style>\n</head>\n<body>\n";
  html << "<h1>sluice bench --sweep</h1>\n<p>" << escape(title) << "</p>\n";
  if (!summary.empty()) html << "<p><b>" << escape(summary) << "</b></p>\n";
  write_chart(html, legend, grid, hint, best);
  write_table(html, grid, hint, best);
  html << "</body>\n</html>\n";

  std::ofstream file(path);
  SLUICE_CHECK(file, "--sweep-html ", path, ": cannot open the file for writing");
  file << html.str();
  SLUICE_CHECK(file.flush(), "--sweep-html ", path, ": cannot write the file");
}

}  // namespace sluice::tool
