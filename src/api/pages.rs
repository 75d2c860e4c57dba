//! The bundled pages in `static/`, embedded in the binary: the customer widget on a
//! sample shop page (`/`), the agent console (`/admin`) and the live stream (`/live`).

use actix_web::{web, HttpResponse};

/// Scripts and styles come only from us; sockets only to us. Images also over https
/// (the widget's avatar may live on the shop's CDN).
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob: https:; frame-ancestors 'none'";

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

const FILES: [(&str, &str, &str); 9] = [
    ("index.html", HTML, include_str!("../../static/index.html")),
    ("admin.html", HTML, include_str!("../../static/admin.html")),
    ("live.html", HTML, include_str!("../../static/live.html")),
    ("live.js", JS, include_str!("../../static/live.js")),
    ("widget.js", JS, include_str!("../../static/widget.js")),
    ("admin.js", JS, include_str!("../../static/admin.js")),
    ("common.js", JS, include_str!("../../static/common.js")),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../static/app.css"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../../static/favicon.svg"),
    ),
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(|| async { file("index.html") }))
        .route("/admin", web::get().to(|| async { file("admin.html") }))
        .route("/live", web::get().to(|| async { file("live.html") }))
        .route(
            "/favicon.ico",
            web::get().to(|| async { file("favicon.svg") }),
        )
        .route(
            "/static/{name}",
            web::get().to(|name: web::Path<String>| async move { file(&name) }),
        );
}

fn file(name: &str) -> HttpResponse {
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, body)) => HttpResponse::Ok()
            .content_type(*content_type)
            .insert_header(("Content-Security-Policy", CSP))
            .insert_header(("X-Content-Type-Options", "nosniff"))
            .body(*body),
        None => HttpResponse::NotFound().json(
            serde_json::json!({"success": false, "message": "Not found", "code": "not_found"}),
        ),
    }
}
