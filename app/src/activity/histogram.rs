//! The activity histogram: an SVG bar per minute, hour or day of the
//! searched period (counts from the database). Each bar is a link that
//! narrows the search to its bucket, with its count as title and label.

use leptos::prelude::*;

use super::model::Histogram;
use super::model::SearchView;

const BAR_WIDTH: usize = 10;
const HEIGHT: i64 = 80;

/// "14:05", "Nov 29 14:00" or "Nov 29", by bucket size.
fn bucket_label(start: i64, bucket_ms: i64) -> String {
    let Some(t) = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(start) else { return String::new() };
    let format = match bucket_ms {
        ms if ms < 3_600_000 => "%H:%M",
        ms if ms < 86_400_000 => "%b %d %H:%M",
        _ => "%b %d",
    };
    t.format(format).to_string()
}

/// RFC 3339 in UTC to the second, as the search's URL carries times.
pub fn url_time(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// A bucket `[start, end)` as URL times that still hold all of it: the
/// start rounded down to the second, the end rounded up.
pub fn url_period(start: i64, end: i64) -> (String, String) {
    (url_time(start.div_euclid(1000) * 1000), url_time((end + 999).div_euclid(1000) * 1000))
}

#[component]
pub fn HistogramChart(histogram: Histogram, search: SearchView, path: String) -> impl IntoView {
    let max = histogram.counts.iter().copied().max().unwrap_or(0).max(1);
    let total = histogram.total();
    let unit = match histogram.bucket_ms {
        ms if ms < 3_600_000 => "minute",
        ms if ms < 86_400_000 => "hour",
        _ => "day",
    };
    let width = histogram.counts.len().max(1) * BAR_WIDTH;
    let from = histogram.period.from;
    let bucket = histogram.bucket_ms;
    let first = bucket_label(from, bucket);
    let last = bucket_label(from + bucket * (histogram.counts.len() as i64 - 1).max(0), bucket);
    let bars = histogram
        .counts
        .iter()
        .enumerate()
        .map(|(i, &count)| {
            let start = from + bucket * i as i64;
            let end = (start + bucket).min(histogram.period.to);
            let height = if count == 0 { 0 } else { (count * HEIGHT / max).max(2) };
            let noun = if count == 1 { "event" } else { "events" };
            let label = format!("{}: {count} {noun}", bucket_label(start, bucket));
            let (from, to) = url_period(start, end);
            let href = SearchView { from: Some(from), to: Some(to), ..search.clone() }.href(&path);
            // A <g> per bar: inside it the view macro makes <a> and <title>
            // SVG elements, also when rendered in the browser.
            view! {
                <g transform=format!("translate({},0)", i * BAR_WIDTH)>
                    <a href=href aria-label=label.clone()>
                        <title>{label.clone()}</title>
                        <rect class="bar-hit" x="0" y="0" width=BAR_WIDTH height=HEIGHT />
                        <rect class="bar" x="1" y=HEIGHT - height width=BAR_WIDTH - 2 height=height />
                    </a>
                </g>
            }
        })
        .collect_view();
    let noun = if total == 1 { "event" } else { "events" };
    view! {
        <figure class="histogram">
            <figcaption>
                {format!("{total} {noun} in this period, per {unit}. Choose a bar to narrow the search to it.")}
            </figcaption>
            <svg
                viewBox=format!("0 0 {width} {HEIGHT}")
                preserveAspectRatio="none"
                role="group"
                aria-label=format!("Events per {unit}")
            >
                {bars}
            </svg>
            <div class="histogram-axis" aria-hidden="true">
                <span>{first}</span>
                <span>{last}</span>
            </div>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::url_period;

    #[test]
    fn a_narrowed_period_holds_its_whole_bucket() {
        let (from, to) = url_period(1_700_000_000_123, 1_700_000_060_001);
        assert_eq!((from.as_str(), to.as_str()), ("2023-11-14T22:13:20Z", "2023-11-14T22:14:21Z"));
        let (_, exact) = url_period(0, 1_700_000_060_000);
        assert_eq!(exact, "2023-11-14T22:14:20Z", "a whole second stays as it is");
    }
}
