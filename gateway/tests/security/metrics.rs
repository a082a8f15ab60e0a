//! Metric labels cannot be flooded: unsigned requests with 2,000 made-up
//! HTTP methods and 2,000 made-up bucket names add no series to `/metrics`
//! (methods outside the known set are `method="other"`; buckets are never
//! labels), and DeleteObject and HeadBucket sent afterwards still show.
//! Python scenario in `tests/clients/test_security_metrics.py`.

use crate::utils::TestGateway;

#[test]
fn made_up_methods_and_buckets_add_no_series() {
    let gateway = TestGateway::start("");
    gateway.assert_pytest_passes("test_security_metrics.py");
}
