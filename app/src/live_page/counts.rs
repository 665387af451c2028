//! The Live page's figures: who is active now (each count a link to the
//! users list filtered to those users), the top event types of the last
//! hour with a sparkline per minute, and the stream's rate bar.

use std::collections::VecDeque;

use leptos::prelude::*;

use super::LiveView;
use crate::model::activity::type_label;
use crate::model::live::{ActiveNow, SecondRate, TypeMinutes, ACTIVE_WINDOWS};

/// The users list filtered to users active within the `slot`th window.
fn active_href(slot: usize) -> String {
    format!("/users?active={}", ACTIVE_WINDOWS[slot].as_param())
}

#[component]
pub fn ActiveNowBox(active: Signal<ActiveNow>) -> impl IntoView {
    let heads = ACTIVE_WINDOWS.map(|w| w.label());
    view! {
        <section class="box live-active" aria-labelledby="live-active-title">
            <h2 id="live-active-title">"Active now"</h2>
            <ul class="active-counts">
                {(0..ACTIVE_WINDOWS.len())
                    .map(|slot| view! {
                        <li>
                            <a href=active_href(slot)>
                                <span class="figure">{move || active.with(|a| a.users[slot])}</span>
                                <span class="figure-label">{format!("in {}", heads[slot])}</span>
                            </a>
                        </li>
                    })
                    .collect_view()}
            </ul>
            <p class="new-users">
                "New users in the last hour: " <strong>{move || active.with(|a| a.new_last_hour)}</strong>
            </p>
            {move || {
                let platforms = active.with(|a| a.platforms.clone());
                (!platforms.is_empty()).then(|| view! {
                    <table class="platforms">
                        <caption>"Active users by platform"</caption>
                        <thead>
                            <tr>
                                <th scope="col">"Platform"</th>
                                {heads.map(|h| view! { <th scope="col">{format!("In {h}")}</th> })}
                            </tr>
                        </thead>
                        <tbody>
                            {platforms
                                .into_iter()
                                .map(|p| view! {
                                    <tr>
                                        <th scope="row">{p.platform}</th>
                                        {p.users.map(|n| view! { <td>{n}</td> })}
                                    </tr>
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                })
            }}
        </section>
    }
}

/// `counts` as an SVG polyline `width` × `height` (the highest at the top).
pub fn sparkline_points(counts: &[i64], width: f64, height: f64) -> String {
    let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let step = if counts.len() > 1 { width / (counts.len() - 1) as f64 } else { 0.0 };
    counts
        .iter()
        .enumerate()
        .map(|(i, &n)| format!("{:.1},{:.1}", i as f64 * step, height - n as f64 / max * height))
        .collect::<Vec<_>>()
        .join(" ")
}

#[component]
pub fn TopEvents(top: Signal<Vec<TypeMinutes>>, view: LiveView) -> impl IntoView {
    let view = StoredValue::new(view);
    view! {
        <section class="box live-top" aria-labelledby="live-top-title">
            <h2 id="live-top-title">"Top events, last hour"</h2>
            {move || {
                let top = top.get();
                if top.is_empty() {
                    return view! { <p class="empty-state">"No events in the last hour."</p> }.into_any();
                }
                view! {
                    <ol class="top-events">
                        {top
                            .into_iter()
                            .map(|t| {
                                let href = view.with_value(|v| v.with_type(&t.event_type).href());
                                let peak = t.per_minute.iter().copied().max().unwrap_or(0);
                                let label = type_label(&t.event_type);
                                let chart = format!("{label}: {} in the last hour, at most {peak} a minute", t.total);
                                let title = format!("Show only {label}");
                                view! {
                                    <li>
                                        <a href=href title=title>
                                            <span class="top-type">{label}</span>
                                            <span class="top-count">{t.total}</span>
                                        </a>
                                        <svg class="sparkline" viewBox="0 0 60 16" preserveAspectRatio="none" role="img" aria-label=chart>
                                            <polyline points=sparkline_points(&t.per_minute, 60.0, 16.0) />
                                        </svg>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ol>
                }
                .into_any()
            }}
        </section>
    }
}

/// The stream's rate: a notice when it samples, and a bar per second.
#[component]
pub fn RateBar(rates: Signal<VecDeque<SecondRate>>) -> impl IntoView {
    let last = move || rates.with(|r| r.back().copied()).filter(|r| r.matched > 0);
    view! {
        <div class="rate" role="status" aria-live="polite">
            {move || last().filter(|r| r.shown < r.matched).map(|r| view! {
                <p class="notice sampled">{sampled_notice(r)}</p>
            })}
        </div>
        {move || {
            let rates = rates.get();
            let peak = rates.iter().map(|r| r.matched).max().unwrap_or(0);
            (peak > 0).then(|| {
                let label = format!("Matching events a second over the last minute: at most {peak}");
                let width = 60.0 / rates.len().max(1) as f64;
                view! {
                    <svg class="rate-bar" viewBox="0 0 60 20" preserveAspectRatio="none" role="img" aria-label=label>
                        {rates
                            .iter()
                            .enumerate()
                            .map(|(i, r)| {
                                let h = r.matched as f64 / peak as f64 * 20.0;
                                view! { <rect x=i as f64 * width y=20.0 - h width=width * 0.8 height=h /> }
                            })
                            .collect_view()}
                    </svg>
                }
            })
        }}
    }
}

/// What a sampled second says: its exact count, and how rows are sampled.
pub fn sampled_notice(rate: SecondRate) -> String {
    let sample = if rate.every > 1 { format!("one in {}", rate.every) } else { format!("the first {}", rate.shown) };
    format!(
        "{} events a second match — more than a person can read. Showing {sample}; the counts stay exact.",
        rate.matched
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sparkline_spans_the_box_with_the_peak_on_top() {
        assert_eq!(sparkline_points(&[0, 5, 10], 60.0, 16.0), "0.0,16.0 30.0,8.0 60.0,0.0");
        assert_eq!(sparkline_points(&[0, 0], 60.0, 16.0), "0.0,16.0 60.0,16.0", "nothing stays on the floor");
    }

    #[test]
    fn each_count_links_to_its_users() {
        assert_eq!(active_href(0), "/users?active=1m");
        assert_eq!(active_href(1), "/users?active=5m");
        assert_eq!(active_href(2), "/users?active=30m");
    }

    #[test]
    fn a_sampled_second_states_its_count_and_its_sample() {
        let rate = |matched, shown, every| SecondRate { matched, shown, every };
        assert!(sampled_notice(rate(400, 20, 1)).starts_with("400 events a second match"));
        assert!(sampled_notice(rate(400, 20, 1)).contains("Showing the first 20;"));
        assert!(sampled_notice(rate(1000, 20, 50)).contains("Showing one in 50;"));
    }
}
