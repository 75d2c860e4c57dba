//! `--mode pairs`: customer/staff pairs over `/ws`, each a closed loop.

use super::*;

/// `urls`: the customer's node and the staff member's.
pub async fn run_pair(
    (customer_url, staff_url): (String, String),
    k: usize,
    run: String,
    token: String,
    start: Instant,
    end: Instant,
) -> Result<Samples, String> {
    let session = format!("lg-{run}-{k}");
    let staff_id = format!("lg-staff-{run}-{k}");
    let mut staff = connect(&staff_url).await?;
    register(
        &mut staff,
        json!({"type": "register_admin", "userId": staff_id, "token": token}),
        "admin_registered",
    )
    .await?;
    let mut customer = connect(&customer_url).await?;
    register(
        &mut customer,
        json!({"type": "register", "sessionId": session}),
        "registered",
    )
    .await?;
    tokio::time::sleep_until(start.into()).await;

    let grace = end + Duration::from_secs(2);
    let staff_loop = async {
        let mut s = Samples::default();
        while let Some(v) = recv(&mut staff, grace).await {
            s.frames += 1;
            match v["type"].as_str() {
                Some("customer_message") if v["sessionId"] == session.as_str() => {
                    if let Some(sent) = v["message"].as_str().and_then(|t| t.parse::<u64>().ok()) {
                        s.to_staff_us.push(now_us().saturating_sub(sent));
                    }
                    let reply = json!({"type": "staff_message", "sessionId": session, "content": now_us().to_string()});
                    if send(&mut staff, reply).await.is_err() {
                        break;
                    }
                }
                Some("error") => s.errors += 1,
                _ => {}
            }
        }
        s
    };
    let customer_loop = async {
        let mut s = Samples::default();
        while Instant::now() < end {
            let sent_at = Instant::now();
            if send(
                &mut customer,
                json!({"type": "customer_message", "message": now_us().to_string()}),
            )
            .await
            .is_err()
            {
                break;
            }
            let mut replied = false;
            while let Some(v) = recv(&mut customer, grace).await {
                s.frames += 1;
                match v["type"].as_str() {
                    Some("staff_reply") => {
                        if let Some(sent) =
                            v["message"].as_str().and_then(|t| t.parse::<u64>().ok())
                        {
                            s.to_customer_us.push(now_us().saturating_sub(sent));
                        }
                        s.round_trip_us.push(sent_at.elapsed().as_micros() as u64);
                        replied = true;
                        break;
                    }
                    Some("error") => s.errors += 1,
                    _ => {}
                }
            }
            if !replied {
                break;
            }
        }
        s
    };
    let (mut a, b) = futures_util::join!(staff_loop, customer_loop);
    a.merge(b);
    Ok(a)
}
