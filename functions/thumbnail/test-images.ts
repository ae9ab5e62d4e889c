// Real images for the tests, made by sharp (no binary fixtures to trust blindly).
import sharp from 'sharp';

export const solidImage = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: { r: 200, g: 80, b: 40 } } });

export const jpeg = (width: number, height: number, orientation?: number): Promise<Buffer> => {
  const image = solidImage(width, height).jpeg({ quality: 90 });
  return (orientation ? image.withMetadata({ orientation }) : image).toBuffer();
};

export const png = (width: number, height: number): Promise<Buffer> => solidImage(width, height).png().toBuffer();

/** A tiny PNG that claims a huge canvas: decoding it would allocate width*height*channels bytes. */
export const pixelBombPng = (side: number): Promise<Buffer> =>
  sharp({ create: { width: side, height: side, channels: 3, background: { r: 0, g: 0, b: 0 } } }).greyscale().png({ compressionLevel: 9 }).toBuffer();

/** A 24-bit BMP header + pixels: a real image format the prebuilt libvips does not decode. */
export function bmp(width: number, height: number): Buffer {
  const rowBytes = Math.ceil((width * 3) / 4) * 4;
  const size = 54 + rowBytes * height;
  const buf = Buffer.alloc(size);
  buf.write('BM', 0, 'ascii');
  buf.writeUInt32LE(size, 2);
  buf.writeUInt32LE(54, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(width, 18);
  buf.writeInt32LE(height, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(24, 28);
  buf.writeUInt32LE(rowBytes * height, 34);
  return buf;
}
