import { describe, expect, it } from 'vitest';
import {
  landingZonePath,
  landingZoneRoot,
  projectGroup,
  projectPath,
  projectRoot,
  sampleDataPath,
  trashRoot,
  userZonesPath,
} from '../../src/flows/layout.js';

const U = 'ab12cd34-0000-4000-8000-000000000000';

describe('store layout (protocol section 4)', () => {
  it('places projects, sample data and landing zones', () => {
    const base = { zone: 'omicsZone', rootPath: '' };
    expect(projectRoot(base)).toBe('/omicsZone/projects');
    expect(projectPath(base, U)).toBe(`/omicsZone/projects/ab/${U}`);
    expect(sampleDataPath(base, U)).toBe(`/omicsZone/projects/ab/${U}/sample_data`);
    expect(sampleDataPath(base, U, 'study_1/assay_2')).toBe(`/omicsZone/projects/ab/${U}/sample_data/study_1/assay_2`);
    expect(landingZoneRoot(base, U)).toBe(`/omicsZone/projects/ab/${U}/landing_zones`);
    expect(userZonesPath(base, U, 'alice')).toBe(`/omicsZone/projects/ab/${U}/landing_zones/alice`);
    expect(landingZonePath(base, U, { userName: 'alice', assayPath: 'study_1/assay_2', zoneTitle: 'z1', zoneConfig: 'bih' })).toBe(
      `/omicsZone/projects/ab/${U}/landing_zones/alice/study_1/assay_2/z1_bih`,
    );
    expect(landingZonePath(base, U, { userName: 'alice', assayPath: 'study_1/assay_2', zoneTitle: 'z1' })).toBe(
      `/omicsZone/projects/ab/${U}/landing_zones/alice/study_1/assay_2/z1`,
    );
    expect(projectGroup(U)).toBe(`omics_project_${U}`);
    expect(trashRoot(base)).toBe('/omicsZone/trash');
  });

  it('puts the optional root path between the zone and projects', () => {
    expect(projectRoot({ zone: 'z', rootPath: 'sodar/root' })).toBe('/z/sodar/root/projects');
    expect(projectRoot({ zone: 'z', rootPath: '/sodar/' })).toBe('/z/sodar/projects');
    expect(projectPath({ zone: 'z', rootPath: 'r' }, U)).toBe(`/z/r/projects/ab/${U}`);
  });
});
