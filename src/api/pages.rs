//! The bundled pages in `static/`, embedded in the binary.

use actix_web::{web, HttpResponse};

/// Scripts and styles come only from us; sockets only to us.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; frame-ancestors 'none'";

const FILES: [(&str, &str, &str); 3] = [
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("../../static/index.html"),
    ),
    (
        "demo.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/demo.js"),
    ),
    (
        "demo.css",
        "text/css; charset=utf-8",
        include_str!("../../static/demo.css"),
    ),
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(|| async { file("index.html") }))
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
