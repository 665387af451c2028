//! The Live page's filters as its URL holds them
//! (`/live?type=…&type=…&segment=&text=&platform=`).

use crate::model::live::LiveFilter;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveView {
    pub types: Vec<String>,
    /// A segment's name.
    pub segment: Option<String>,
    pub text: Option<String>,
    pub platform: Option<String>,
}

impl LiveView {
    /// The view of a query string's pairs (repeated `type`s).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> LiveView {
        let mut view = LiveView::default();
        let word = |v: &str| Some(v.replace('+', " ").trim().to_string()).filter(|v| !v.is_empty());
        for (key, value) in pairs {
            match key {
                // A form's one box may name several, comma-separated.
                "type" => view.types.extend(value.split(',').filter_map(word)),
                "segment" => view.segment = word(value),
                "text" => view.text = word(value),
                "platform" => view.platform = word(value),
                _ => {}
            }
        }
        view
    }

    pub fn filter(&self) -> LiveFilter {
        LiveFilter {
            types: self.types.clone(),
            segment: None,
            text: self.text.clone(),
            platform: self.platform.clone(),
        }
    }

    pub fn is_filtered(&self) -> bool {
        *self != LiveView::default()
    }

    /// The page's address for this view.
    pub fn href(&self) -> String {
        let query = self.query(None);
        if query.is_empty() {
            "/live".into()
        } else {
            format!("/live?{query}")
        }
    }

    /// This view with only `event_type` (a top event's click).
    pub fn with_type(&self, event_type: &str) -> LiveView {
        LiveView { types: vec![event_type.to_string()], ..self.clone() }
    }

    /// The query string; with `segment_id`, the stream's (which names the
    /// segment by id) instead of the page's.
    pub fn query(&self, segment_id: Option<i64>) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for t in &self.types {
            query.append_pair("type", t);
        }
        match (segment_id, &self.segment) {
            (Some(id), _) => {
                query.append_pair("segment", &id.to_string());
            }
            (None, Some(name)) => {
                query.append_pair("segment", name);
            }
            (None, None) => {}
        }
        if let Some(text) = &self.text {
            query.append_pair("text", text);
        }
        if let Some(platform) = &self.platform {
            query.append_pair("platform", platform);
        }
        // Spaces as %20: the router decodes percent-escapes but not `+`.
        query.finish().replace('+', "%20")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_round_trips_through_its_address() {
        let view = LiveView {
            types: vec!["purchase".into(), "re.notifica.event.application.Open".into()],
            segment: Some("VIP users".into()),
            text: Some("gold & silver".into()),
            platform: Some("iOS".into()),
        };
        let href = view.href();
        let query = href.strip_prefix("/live?").unwrap();
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let back = LiveView::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        assert_eq!(back, view);
        assert_eq!(LiveView::default().href(), "/live");
        assert!(view.query(Some(7)).contains("segment=7"));
    }
}
