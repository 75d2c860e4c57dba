//! Socket.IO over several nodes, with the real `socket.io-client`
//! (`tests/socketio/cluster.test.js`): every dialect across nodes, and connection
//! state recovery on another node after `kill -9`.

use super::*;

#[actix_web::test]
async fn socket_io_dialects_across_nodes_and_recovery_after_a_node_dies() {
    let Some(services) = services() else { return };
    // Clients reach the nodes both directly and through the test's load balancer (on
    // a port of its own), so the nodes take any Host and Origin.
    let any_origin = [("ALLOWED_ORIGINS", "*")];
    let cluster = Cluster::start_with(&services, &["sio-a", "sio-b", "sio-c"], &any_origin);
    let (a, b, c) = (&cluster.nodes[0], &cluster.nodes[1], &cluster.nodes[2]);
    let env = vec![
        ("SB_URL_B", b.url("")),
        ("SB_URL_C", c.url("")),
        ("SB_PID_A", a.pid().to_string()),
        ("SB_REDIS_URL", services.redis_url.clone()),
    ];
    crate::node::run_at(
        "socketio",
        "cluster.test.js",
        a.url(""),
        SECRET.to_owned(),
        a.data_dir(),
        env,
    )
    .await;
}
