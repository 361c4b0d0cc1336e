/** Plausible Vietnamese names, phone numbers and Ho Chi Minh City plates (ASCII, no diacritics). */
import type { Rng } from './rng.js';
import type { VehicleType } from './fare.js';

const FAMILY = [
  'Nguyen',
  'Tran',
  'Le',
  'Pham',
  'Hoang',
  'Huynh',
  'Phan',
  'Vu',
  'Vo',
  'Dang',
  'Bui',
  'Do',
  'Ho',
  'Ngo',
  'Duong',
  'Ly',
];
const FAMILY_WEIGHT = [38, 11, 9, 7, 5, 5, 4, 4, 3, 2, 2, 2, 2, 2, 2, 2];
const MIDDLE = ['Van', 'Thi', 'Minh', 'Ngoc', 'Thanh', 'Duc', 'Hoai', 'Quoc', 'Gia', 'Bao', 'Kim', 'Huu'];
const GIVEN = [
  'An',
  'Binh',
  'Chi',
  'Dung',
  'Giang',
  'Hai',
  'Hanh',
  'Hieu',
  'Hoa',
  'Hung',
  'Huong',
  'Khanh',
  'Lan',
  'Linh',
  'Long',
  'Mai',
  'Minh',
  'Nam',
  'Nga',
  'Phong',
  'Phuong',
  'Quan',
  'Quynh',
  'Son',
  'Tam',
  'Thao',
  'Trang',
  'Trung',
  'Tuan',
  'Vy',
  'Yen',
];
const MOBILE_PREFIXES = [
  '90',
  '91',
  '93',
  '94',
  '96',
  '97',
  '98',
  '70',
  '76',
  '77',
  '78',
  '79',
  '81',
  '83',
  '84',
  '85',
  '86',
  '88',
  '89',
];
const EMAIL_DOMAINS = ['gmail.com', 'yahoo.com', 'outlook.com', 'icloud.com'];

export function fullName(rng: Rng): string {
  const family = FAMILY[pickIndex(rng, FAMILY_WEIGHT)]!;
  return `${family} ${rng.pick(MIDDLE)} ${rng.pick(GIVEN)}`;
}

export function phone(rng: Rng): string {
  return `+84${rng.pick(MOBILE_PREFIXES)}${String(rng.int(0, 9_999_999)).padStart(7, '0')}`;
}

export function email(rng: Rng, name: string, n: number): string {
  const local = name.toLowerCase().split(' ').reverse().join('.');
  return `${local}${n}@${rng.pick(EMAIL_DOMAINS)}`;
}

/** HCMC registration: cars 51A–51K (e.g. 51F-123.45), motorbikes 59-X1 234.56. */
export function plate(rng: Rng, vehicle: VehicleType): string {
  const five = String(rng.int(0, 99_999)).padStart(5, '0');
  const tail = `${five.slice(0, 3)}.${five.slice(3)}`;
  if (vehicle === 'bike') return `59-${rng.pick(['X', 'Y', 'Z', 'T', 'N'])}${rng.int(1, 9)} ${tail}`;
  return `51${rng.pick(['A', 'F', 'G', 'H', 'K'])}-${tail}`;
}

function pickIndex(rng: Rng, weights: readonly number[]): number {
  let total = 0;
  for (const w of weights) total += w;
  let r = rng.next() * total;
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i]!;
    if (r < 0) return i;
  }
  return weights.length - 1;
}
