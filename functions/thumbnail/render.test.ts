import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { RejectedInput } from '#shared/errors';
import { renderThumbnails, type RenderOptions } from './render';
import { bmp, jpeg, pixelBombPng, png } from './test-images';

const options: RenderOptions = { widths: [128, 512, 1024], format: 'webp', maxInputPixels: 50_000_000 };

const dims = async (data: Buffer) => {
  const m = await sharp(data).metadata();
  return { format: m.format, width: m.width, height: m.height, exif: m.exif, orientation: m.orientation };
};

const rejection = async (input: Buffer, opts: RenderOptions = options): Promise<string> => {
  const error = await renderThumbnails(input, opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RejectedInput);
  return (error as Error).message;
};

describe('renderThumbnails', () => {
  it('resizes to every configured width keeping the aspect ratio', async () => {
    const { outputs, source } = await renderThumbnails(await jpeg(2000, 1000), options);

    expect(source).toEqual({ format: 'jpeg', width: 2000, height: 1000 });
    const measured = await Promise.all(outputs.map((o) => dims(o.data)));
    expect(measured.map(({ format, width, height }) => ({ format, width, height }))).toEqual([
      { format: 'webp', width: 128, height: 64 },
      { format: 'webp', width: 512, height: 256 },
      { format: 'webp', width: 1024, height: 512 },
    ]);
    expect(outputs.map((o) => [o.width, o.height])).toEqual([[128, 64], [512, 256], [1024, 512]]);
  });

  it('auto-orients from EXIF so a rotated photo comes out upright, without its metadata', async () => {
    const sideways = await jpeg(800, 600, 6);
    expect((await dims(sideways)).orientation).toBe(6);

    const { outputs } = await renderThumbnails(sideways, { ...options, widths: [300] });

    const out = await dims(outputs[0]!.data);
    expect([out.width, out.height]).toEqual([300, 400]);
    expect(out.exif).toBeUndefined();
    expect(out.orientation).toBeUndefined();
  });

  it('never upscales a small image', async () => {
    const { outputs } = await renderThumbnails(await png(300, 150), options);
    expect(outputs.map((o) => [o.width, o.height])).toEqual([[128, 64], [300, 150]]);
  });

  it('encodes JPEG and AVIF when selected', async () => {
    const input = await png(640, 480);
    const asJpeg = await renderThumbnails(input, { ...options, widths: [320], format: 'jpeg' });
    const asAvif = await renderThumbnails(input, { ...options, widths: [320], format: 'avif' });
    expect(await dims(asJpeg.outputs[0]!.data)).toMatchObject({ format: 'jpeg', width: 320, height: 240 });
    expect(await dims(asAvif.outputs[0]!.data)).toMatchObject({ format: 'heif', width: 320, height: 240 });
  });

  it('rejects an empty object', async () => {
    expect(await rejection(Buffer.alloc(0))).toMatch(/empty object \(0 bytes\)/);
  });

  it('rejects a text file named like an image', async () => {
    expect(await rejection(Buffer.from('this is not a png, just text\n'))).toMatch(/not a decodable image/);
  });

  it('rejects a truncated JPEG', async () => {
    const whole = await jpeg(1200, 900);
    expect(await rejection(whole.subarray(0, Math.floor(whole.length / 2)))).toMatch(/corrupt or truncated jpeg image/);
  });

  it('rejects a pixel bomb before decoding it', async () => {
    const bomb = await pixelBombPng(8000);
    expect(bomb.length).toBeLessThan(200_000);
    expect(await rejection(bomb, { ...options, maxInputPixels: 10_000_000 })).toMatch(
      /8000x8000 = 64000000 pixels, above the limit of 10000000 \(MAX_INPUT_PIXELS\)/,
    );
  });

  it('says that a HEIC photo cannot be decoded by the bundled libvips, not that it is corrupt', async () => {
    // A real 64x48 HEIC (HEVC inside), made with pillow-heif: see fixtures/README.md.
    const heic = readFileSync(join(__dirname, 'fixtures/red-64x48.heic'));
    expect(await rejection(heic)).toBe('HEIC (HEVC-coded HEIF) cannot be decoded: the bundled libvips has no HEVC decoder; convert it to JPEG, PNG, WebP or AVIF');
  });

  it('rejects an image format it does not support', async () => {
    expect(await rejection(bmp(16, 16))).toMatch(/not a decodable image|unsupported image format/);
  });
});
