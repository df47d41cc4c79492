// The manifest written beside each binary (<name>.manifest.json): the build info the binary
// carries, plus what can only be known afterwards (its sha256 and sizes).
import { BuildInfo } from '../../runtime/sea/embedded';

export interface FeatureCost {
  /** Bundle bytes only this feature brought (metafile attribution). */
  js: number;
  /** Its assets (native addons) as embedded. */
  assets: number;
  total: number;
}

export interface BuildManifest extends BuildInfo {
  /** The binary's file name in the output folder. */
  file: string;
  /** The container image built from it (`--image`): tag and size, null bytes when not built. */
  image?: { tag: string; containerfile: string; bytes: number | null };
  sha256: string;
  bytes: number;
  sizes: {
    /** The base Node binary as given, and after stripping (equal with --no-strip). */
    node: number;
    nodeStripped: number;
    bundle: number;
    /** Every SEA asset: wasm, addons, app, build info. */
    assets: number;
    core: { js: number; assets: number };
    /** Bundle bytes shared by several features (counted in none of them). */
    shared: number;
    features: Record<string, FeatureCost>;
  };
  budget: { bytes: number; text: string } | null;
  strip: boolean;
  /** Where the base Node came from and its checksum (of the file as given, before stripping). */
  base: {
    source: 'registry' | 'host' | 'path';
    version: string;
    target: string | null;
    /** The registry package and its tarball integrity, for a registry base. */
    package: string | null;
    integrity: string | null;
    sha256: string;
  };
  /** The injected SEA blob. */
  blob: { sha256: string; bytes: number };
}

export const MANIFEST_SUFFIX = '.manifest.json';
export const METAFILE_SUFFIX = '.metafile.json';
