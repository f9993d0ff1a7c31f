"""The expected folder trees, drawn in every layout error (ROOT is the user's root)."""

RESIDE_HELP = """{root}/            (or {root}/train/)
  hazy/1_1_0.90179.png      GT named by the prefix before the first '_'
  gt/1.png                  (folder may be named gt, GT or clear; extension may differ)"""
SOTS_INDOOR_HELP = """{root}/            (SOTS 'indoor' folder, or IRNeXt's reside-indoor/test)
  hazy/1400_1.png
  gt/1400.png
  (GT named by the prefix before the first '_'; 640x480 GT for 620x460 hazy: the 10-pixel
  border is cropped)"""
SOTS_OUTDOOR_HELP = """{root}/            (SOTS 'outdoor' folder, or IRNeXt's reside-outdoor/test)
  hazy/0001_0.8_0.2.jpg
  gt/0001.png
  (GT named by the prefix before the first '_')"""
FLAT_HELP = """{root}/
  {inp}/NAME.png
  {tgt}/NAME.png            same file names on both sides"""
SPLIT_HELP = """{root}/
  {splits}/
    {inp}/NAME.png
    {tgt}/NAME.png          same file names on both sides"""
GOPRO_HELP = """{root}/            (GOPRO_Large)
  train|test/GOPRxxxx_xx_xx/blur/000047.png    (the no-gamma 'blur' folder)
  train|test/GOPRxxxx_xx_xx/sharp/000047.png
or flattened: train|test/{input|blur}/NAME.png and {target|sharp}/NAME.png"""
HIDE_HELP = """{root}/            (HIDE_dataset)
  test/test-close-ups/NAME.png  and  test/test-long-shot/NAME.png
  GT/NAME.png               GT by file name
or flattened: test/input/NAME.png and test/target/NAME.png (or input/, target/ at the root)"""
REALBLUR_HELP = """{root}/            (the RealBlur folder)
  RealBlur_{v}_test_list.txt     lines 'GT_PATH BLUR_PATH' relative to the root
  RealBlur-{v}_ECC_IMCORR_centroid_itensity_ref/scene001/blur/blur_1.png, gt/gt_1.png
or flattened: test/input/NAME.png and test/target/NAME.png (or input/, target/ at the root)"""
DPDD_HELP = """{root}/            (dd_dp_dataset_png)
  train_c|val_c|test_c/source/NAME.png     16-bit PNG (Restormer's copy: inputC/)
  train_c|val_c|test_c/target/NAME.png
indoor/outdoor groups need group_lists={'indoor': FILE, 'outdoor': FILE}: a text file of names
or 1-based indices, or a .npy of 1-based indices into the natural-sorted test list (Restormer's
indoor_labels.npy / outdoor_labels.npy)"""
SNOW_HELP = """{root}/
  train2500|test2000/Snow/NAME.png   (IRNeXt/FocalNet subsets; also Train|Test for CSD)
  train2500|test2000/Gt/NAME.png     (or synthetic/gt, Syn/gt, input/target)"""
SNOW100K_HELP = """{root}/
  train2500/ or all/ (Snow100K-training)       with Snow|synthetic/ and Gt|gt/
  test2000/ or Snow100K-L|M|S/ (Snow100K-testset) with Snow|synthetic/ and Gt|gt/"""
HAZE4K_HELP = """{root}/
  train|test/IN/<n>_<a>_<beta>.png
  train|test/GT/<n>.png     GT named by the prefix before the first '_'"""
RAIN13K_HELP = (
    FLAT_HELP.format(root="{root}", inp="input", tgt="target")
    + "\n  ({root} is train/Rain13K of the MPRNet/Restormer distribution)"
)
SYNTH_HELP = (
    SPLIT_HELP.format(root="{root}", splits="train|val|test", inp="input", tgt="target")
    + "\n  manifest.json   (written by `irnext data synth`)"
)


def rain_test_help(folder: str) -> str:
    """The tree of one Rain13K test set, `folder` as the MPRNet/Restormer copy names it."""
    return (
        FLAT_HELP.format(root="{root}", inp="input", tgt="target")
        + f"\n  ({{root}} is test/{folder}; original rain/norain-N naming also read)"
    )
