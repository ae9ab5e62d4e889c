import { planWidths, thumbnailKey, uprightSize } from './resize-plan';

describe('resize plan', () => {
  it('keeps every configured width below the source width, ascending', () => {
    expect(planWidths(4000, [1024, 128, 512])).toEqual([128, 512, 1024]);
  });

  it('never upscales: widths above the source collapse to the source width, once', () => {
    expect(planWidths(300, [128, 512, 1024])).toEqual([128, 300]);
    expect(planWidths(100, [128, 512])).toEqual([100]);
  });

  it('builds a deterministic key per width and format', () => {
    expect(thumbnailKey('images/red flower.jpg', 128, 'webp')).toBe('images/red flower.jpg/128.webp');
    expect(thumbnailKey('images/a.png', 512, 'jpeg')).toBe('images/a.png/512.jpg');
    expect(thumbnailKey('images/a.png', 64, 'avif')).toBe('images/a.png/64.avif');
  });

  it('swaps width and height for EXIF orientations that rotate by 90 degrees', () => {
    expect(uprightSize(800, 600, 6)).toEqual({ width: 600, height: 800 });
    expect(uprightSize(800, 600, 3)).toEqual({ width: 800, height: 600 });
    expect(uprightSize(800, 600, undefined)).toEqual({ width: 800, height: 600 });
  });
});
