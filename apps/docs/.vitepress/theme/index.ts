import DefaultTheme from 'vitepress/theme';
import type { Theme } from 'vitepress';
import 'katex/dist/katex.min.css';
import './style.css';
import Grid from './components/Grid.vue';
import MatrixInput from './components/MatrixInput.vue';
import ConvExample from './components/ConvExample.vue';
import ActivationExample from './components/ActivationExample.vue';
import PoolExample from './components/PoolExample.vue';
import DropoutExample from './components/DropoutExample.vue';
import BatchNormExample from './components/BatchNormExample.vue';
import AugmentationExample from './components/AugmentationExample.vue';
import DenseExample from './components/DenseExample.vue';
import LossExample from './components/LossExample.vue';
import GradCheckExample from './components/GradCheckExample.vue';
import DescentExample from './components/DescentExample.vue';
import TrainDemo from './components/TrainDemo.vue';
import OwnImagesDemo from './components/OwnImagesDemo.vue';

export default {
  extends: DefaultTheme,
  enhanceApp({ app }) {
    app.component('Grid', Grid);
    app.component('MatrixInput', MatrixInput);
    app.component('ConvExample', ConvExample);
    app.component('ActivationExample', ActivationExample);
    app.component('PoolExample', PoolExample);
    app.component('DropoutExample', DropoutExample);
    app.component('BatchNormExample', BatchNormExample);
    app.component('AugmentationExample', AugmentationExample);
    app.component('DenseExample', DenseExample);
    app.component('LossExample', LossExample);
    app.component('GradCheckExample', GradCheckExample);
    app.component('DescentExample', DescentExample);
    app.component('TrainDemo', TrainDemo);
    app.component('OwnImagesDemo', OwnImagesDemo);
  },
} satisfies Theme;
