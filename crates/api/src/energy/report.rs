//! The exported energy report: power over time per source and energy by consumer, drawn by
//! plotters as one SVG (text as text, so it needs no font files).

use plotters::prelude::*;

/// One line of the power chart: a label and `(ms, watts)` points.
pub(super) type PowerLine = (String, Vec<(i64, f64)>);

/// Draws the report; `consumers` are `(label, joules)`, largest first.
pub(super) fn render_svg(title: &str, power: &[PowerLine], consumers: &[(String, f64)]) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (1000, 760)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let root = root.titled(title, ("sans-serif", 22)).map_err(|e| e.to_string())?;
        let (top, bottom) = root.split_vertically(420);
        power_chart(&top, power).map_err(|e| e.to_string())?;
        consumer_chart(&bottom, consumers).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;
type DrawResult = Result<(), Box<dyn std::error::Error>>;

fn power_chart(area: &Area<'_>, lines: &[PowerLine]) -> DrawResult {
    let points = lines.iter().flat_map(|l| l.1.iter());
    let (t0, t1, top) =
        points.fold((i64::MAX, i64::MIN, 1.0f64), |(a, b, m), (t, w)| (a.min(*t), b.max(*t), m.max(*w)));
    if t0 > t1 {
        area.draw(&Text::new("No power recorded in this period.", (60, 60), ("sans-serif", 16)))?;
        return Ok(());
    }
    let minutes = |t: i64| (t - t1) as f64 / 60_000.0;
    let mut chart = ChartBuilder::on(area)
        .caption("Power over time (W)", ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(minutes(t0)..0.0, 0.0..top * 1.1)?;
    chart.configure_mesh().x_desc("minutes before now").y_desc("W").draw()?;
    for (i, (label, pts)) in lines.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(pts.iter().map(|(t, w)| (minutes(*t), *w)), color.stroke_width(2)))?
            .label(label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
    Ok(())
}

fn consumer_chart(area: &Area<'_>, consumers: &[(String, f64)]) -> DrawResult {
    if consumers.is_empty() {
        area.draw(&Text::new("No energy recorded today.", (60, 60), ("sans-serif", 16)))?;
        return Ok(());
    }
    let max_wh = consumers.iter().map(|c| c.1 / 3600.0).fold(0.0, f64::max).max(1e-3);
    let n = consumers.len();
    let mut chart = ChartBuilder::on(area)
        .caption("Energy today by consumer (Wh)", ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(200)
        .build_cartesian_2d(0.0..max_wh * 1.15, 0.0..n as f64)?;
    chart
        .configure_mesh()
        .y_labels(n)
        .y_label_formatter(&|y| consumers.get(*y as usize).map(|c| c.0.clone()).unwrap_or_default())
        .x_desc("Wh")
        .draw()?;
    chart.draw_series(consumers.iter().enumerate().map(|(i, (_, j))| {
        let y = i as f64;
        Rectangle::new([(0.0, y + 0.15), (j / 3600.0, y + 0.85)], Palette99::pick(i).filled())
    }))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_lines_bars_and_says_when_there_is_nothing() {
        let power = vec![("local / gpu.0".to_string(), vec![(0, 100.0), (60_000, 120.0)])];
        let svg = render_svg("Energy", &power, &[("local / gpu.0 (measured)".into(), 7_200.0)]).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("local / gpu.0") && svg.contains("<polyline"), "{svg}");
        assert!(svg.contains("Energy today by consumer"));
        let empty = render_svg("Energy", &[], &[]).unwrap();
        assert!(empty.contains("No power recorded") && empty.contains("No energy recorded today"));
    }
}
