-- Zones of ride_hailing_db: sixteen Ho Chi Minh City districts. Centroids are approximate district
-- centres; each box is a small square around the centroid (half-size 0.007–0.035°, ≈ 1–4 km).
-- Boxes may overlap slightly; the generator assigns a point to the nearest centroid among the
-- boxes containing it. demand_weight is the relative share of ride requests starting there.
-- Kept in step with src/generator/zones.ts by tests/unit/generator-zones.test.ts.
-- ON CONFLICT DO NOTHING: re-running never overwrites zones edited in place.
INSERT INTO zones (id, code, name, city, center_lat, center_lon, min_lat, max_lat, min_lon, max_lon, demand_weight) VALUES
  (1, 'D1', 'District 1', 'Ho Chi Minh City', 10.7756, 106.7019, 10.7646, 10.7866, 106.6909, 106.7129, 3.000),
  (2, 'D3', 'District 3', 'Ho Chi Minh City', 10.7828, 106.6866, 10.7738, 10.7918, 106.6776, 106.6956, 2.000),
  (3, 'D4', 'District 4', 'Ho Chi Minh City', 10.7579, 106.7044, 10.7509, 10.7649, 106.6974, 106.7114, 1.000),
  (4, 'D5', 'District 5', 'Ho Chi Minh City', 10.7557, 106.6685, 10.7467, 10.7647, 106.6595, 106.6775, 1.200),
  (5, 'D6', 'District 6', 'Ho Chi Minh City', 10.7469, 106.6352, 10.7359, 10.7579, 106.6242, 106.6462, 0.700),
  (6, 'D7', 'District 7', 'Ho Chi Minh City', 10.734, 106.7218, 10.716, 10.752, 106.7038, 106.7398, 1.600),
  (7, 'D8', 'District 8', 'Ho Chi Minh City', 10.7243, 106.6285, 10.7093, 10.7393, 106.6135, 106.6435, 0.700),
  (8, 'D10', 'District 10', 'Ho Chi Minh City', 10.7731, 106.668, 10.7651, 10.7811, 106.66, 106.676, 1.400),
  (9, 'D11', 'District 11', 'Ho Chi Minh City', 10.7629, 106.6502, 10.7549, 10.7709, 106.6422, 106.6582, 0.800),
  (10, 'BTH', 'Binh Thanh', 'Ho Chi Minh City', 10.8106, 106.7091, 10.7946, 10.8266, 106.6931, 106.7251, 2.200),
  (11, 'PNH', 'Phu Nhuan', 'Ho Chi Minh City', 10.7992, 106.6803, 10.7912, 10.8072, 106.6723, 106.6883, 1.500),
  (12, 'TBI', 'Tan Binh', 'Ho Chi Minh City', 10.8015, 106.6527, 10.7875, 10.8155, 106.6387, 106.6667, 1.800),
  (13, 'TPH', 'Tan Phu', 'Ho Chi Minh City', 10.7918, 106.6282, 10.7808, 10.8028, 106.6172, 106.6392, 0.900),
  (14, 'GVP', 'Go Vap', 'Ho Chi Minh City', 10.8387, 106.6653, 10.8227, 10.8547, 106.6493, 106.6813, 1.300),
  (15, 'TDC', 'Thu Duc', 'Ho Chi Minh City', 10.8494, 106.7717, 10.8144, 10.8844, 106.7367, 106.8067, 1.500),
  (16, 'BTN', 'Binh Tan', 'Ho Chi Minh City', 10.7653, 106.6037, 10.7453, 10.7853, 106.5837, 106.6237, 0.900)
ON CONFLICT DO NOTHING;
