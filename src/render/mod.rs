//! Renderers for reports: human text and JSON.
