//! The bundled pages in `static/`, embedded in the binary.

use actix_web::{web, HttpResponse};

const INDEX_HTML: &str = include_str!("../../static/index.html");

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(index));
}

async fn index() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'"))
        .body(INDEX_HTML)
}
