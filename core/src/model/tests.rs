use super::*;

#[test]
fn enums_serialize_as_snake_case_strings() {
    assert_eq!(serde_json::to_string(&Role::Leader).unwrap(), "\"leader\"");
    assert_eq!(
        serde_json::to_string(&FindingStatus::Rectifying).unwrap(),
        "\"rectifying\""
    );
    assert_eq!(
        serde_json::to_string(&Measure::SuspendOperations).unwrap(),
        "\"suspend_operations\""
    );
    assert_eq!(
        serde_json::to_string(&Sector::NonCoalMine).unwrap(),
        "\"non_coal_mine\""
    );
}

#[test]
fn every_subsector_belongs_to_the_sector_that_lists_it() {
    for sector in Sector::ALL {
        for sub in sector.subsectors() {
            assert_eq!(sub.sector(), sector);
        }
    }
}

#[test]
fn geo_point_rejects_out_of_range_or_negative_accuracy() {
    let ok = GeoPoint {
        lat: 39.8,
        lon: 109.9,
        accuracy_m: Some(12.0),
    };
    assert!(ok.is_valid());
    assert!(!GeoPoint { lat: 91.0, ..ok }.is_valid());
    assert!(
        !GeoPoint {
            accuracy_m: Some(-1.0),
            ..ok
        }
        .is_valid()
    );
    assert!(
        !GeoPoint {
            accuracy_m: Some(f64::NAN),
            ..ok
        }
        .is_valid()
    );
}

#[test]
fn needs_deadline_covers_every_measure_with_a_rectification_period() {
    assert!(!Measure::Immediate.needs_deadline());
    assert!(Measure::Deadline.needs_deadline());
    assert!(Measure::SuspendOperations.needs_deadline());
    assert!(Measure::StopWork.needs_deadline());
    assert!(!Measure::FileCase.needs_deadline());
}
